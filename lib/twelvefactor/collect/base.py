"""What every collector shares: guarded calls that record failures instead of raising."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from typing import Any

import botocore
import botocore.exceptions

from ..aws import AwsAccess, iam_action
from ..errors import ReadOnlyViolation

log = logging.getLogger(__name__)

ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "ClientException:not authorized",
}
THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
}


def classify(code: str, status: int) -> str:
    """A coarse kind for a failed call: access-denied, throttled, unsupported or error."""
    if code in ACCESS_DENIED_CODES or "AccessDenied" in code or "NotAuthorized" in code:
        return "access-denied"
    if status == 403 and code == "403":  # a denial whose body the client could not parse
        return "access-denied"
    if code in THROTTLING_CODES or status == 429:
        return "throttled"
    if code in {"NotImplemented", "NotImplementedError", "InvalidAction", "UnknownOperation"} or (
        status in {500, 501} and code in {"500", "501", "InternalFailure", "NotImplemented"}
    ):
        return "unsupported"
    return "error"


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class ServiceCollector:
    """Collects one service in one region; subclasses define :meth:`collect`.

    ``call`` and ``paginate`` never raise for API failures: they record an error entry (which the
    checks turn into ``ERROR`` findings) and return None.
    """

    service: str = ""
    #: IAM actions this collector may call; the shipped policy is derived from these.
    actions: tuple[str, ...] = ()

    def __init__(self, access: AwsAccess, region: str):
        self.access = access
        self.region = region
        self.client = access.client(self.service, region)
        self.errors: list[dict[str, Any]] = []
        #: the run's pool for per-resource calls (collect() sets it; None: one call at a time)
        self.fanout: Executor | None = None

    def collect(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def each(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``fn(item)`` for every item, in the run's bounded pool; results in the items' order.

        For APIs with no batch form (one call per resource): against AWS each call waits 50-150
        ms, so thousands of them must not wait in line. Errors they record are put in a stable
        order (operation, resource) so that a snapshot does not depend on thread timing.
        """
        items = list(items)
        if self.fanout is None or len(items) < 2:
            return [fn(item) for item in items]
        before = len(self.errors)
        results = list(self.fanout.map(fn, items))
        self.errors[before:] = sorted(
            self.errors[before:], key=lambda e: (e["operation"], str(e["resource"]))
        )
        return results

    def _record(self, operation: str, exc: Exception, resource: str | None) -> None:
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            message = str(err.get("Message", ""))[:300]
            if message.lstrip().lower().startswith(("<!doctype", "<html")):
                message = f"HTTP {exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}"
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        else:
            code, message, status = type(exc).__name__, str(exc)[:300], 0
        entry = {
            "region": self.region,
            "service": self.service,
            "operation": operation,
            "action": iam_action(self.service, operation),
            "resource": resource,
            "code": code,
            "kind": classify(code, status),
            "message": message,
        }
        # recorded in the snapshot and shown by 00-start-here; logged for -v only
        log.info("%s:%s in %s failed: %s %s", self.service, operation, self.region, code, message)
        self.errors.append(entry)

    def call(
        self,
        operation: str,
        *,
        resource: str | None = None,
        missing_ok: Iterable[str] = (),
        **params: Any,
    ) -> dict[str, Any] | None:
        method = getattr(self.client, botocore.xform_name(operation))
        try:
            response = method(**params)
        except ReadOnlyViolation:
            raise
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in set(missing_ok):
                return None
            self._record(operation, exc, resource)
            return None
        except (botocore.exceptions.BotoCoreError, NotImplementedError) as exc:
            # in-process moto raises NotImplementedError for an operation it lacks
            self._record(operation, exc, resource)
            return None
        response.pop("ResponseMetadata", None)
        return response

    def paginate(
        self, operation: str, result_key: str, *, resource: str | None = None, **params: Any
    ) -> list[Any] | None:
        paginator = self.client.get_paginator(botocore.xform_name(operation))
        items: list[Any] = []
        try:
            for page in paginator.paginate(**params):
                items.extend(page.get(result_key, []))
        except ReadOnlyViolation:
            raise
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
            NotImplementedError,
        ) as exc:
            self._record(operation, exc, resource)
            return None
        return items
