"""The one place AWS clients come from: read-only guard, retries, call meter.

Every client the audit uses is created by :class:`AwsAccess`. Before any request leaves, a botocore
hook refuses operations that are not reads and the few reads that would return secret values.
Retries run in botocore's standard mode; a meter counts calls, retries, errors and time per service
and operation.

For tests and benchmarks only, ``TWELVEFACTOR_FAULTS`` (see :class:`FaultPlan`) makes a seeded share
of calls fail with throttling or 5xx answers before anything is sent, to prove that the retries
absorb them and that exhausted retries become ``ERROR`` findings. It is off unless set.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.awsrequest
import botocore.config
import botocore.exceptions

from .errors import ConfigurationError, ReadOnlyViolation
from .settings import Settings

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Lookup")
#: Reads whose names do not start with a read prefix. Kept short on purpose.
EXTRA_READS: frozenset[str] = frozenset()
#: Reads that would return secret material or log contents: never sent.
SECRET_READS = {
    "GetSecretValue": "it returns a secret's value",
    "BatchGetSecretValue": "it returns secrets' values",
    "GetParameter": "it returns a parameter's value (the audit reads metadata only)",
    "GetParameters": "it returns parameters' values (the audit reads metadata only)",
    "GetParametersByPath": "it returns parameters' values (the audit reads metadata only)",
    "GetParameterHistory": "it returns parameters' past values",
    "GetAuthorizationToken": "it returns registry credentials",
    "GetDownloadUrlForLayer": "it hands out image layer download links",
    "GetSessionToken": "it creates credentials",
    "GetFederationToken": "it creates credentials",
    "GetWebIdentityToken": "it returns a signed identity token",
    "GetDelegatedAccessToken": "it returns credentials",
    "GetScopedCredentials": "it returns credentials",
    "GetAccessToken": "it returns credentials",
    "GetCommandInvocation": "it returns command output, which may hold secrets",
    "GetLogObject": "it returns log contents, which may hold secrets",
    "ListAnomalies": "it returns log samples, which may hold secrets",
    "ListCommandInvocations": "it can return command output, which may hold secrets",
    "LookupEvents": "it returns API call records, which hold task definitions' environments",
    "GetLogEvents": "it returns log contents, which may hold secrets",
    "GetLogRecord": "it returns log contents, which may hold secrets",
    "GetQueryResults": "it returns log contents, which may hold secrets",
}
DEMO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
#: IAM service prefixes that differ from botocore's client names.
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "efs": "elasticfilesystem"}
#: IAM actions named otherwise than their API operation.
IAM_OPERATION = {("s3", "ListBuckets"): "ListAllMyBuckets"}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that allows a botocore operation (elbv2 -> elasticloadbalancing)."""
    return (
        f"{IAM_PREFIX.get(service, service)}:{IAM_OPERATION.get((service, operation), operation)}"
    )


def refusal_reason(operation: str, params: dict[str, Any] | None = None) -> str | None:
    """Why ``operation`` must not be sent, or None when it is an allowed read."""
    if operation in SECRET_READS:
        return SECRET_READS[operation]
    if params and params.get("WithDecryption"):
        return "it asks AWS to decrypt values"
    if operation in EXTRA_READS or operation.startswith(READ_PREFIXES):
        return None
    return "it is not a read (Describe*, List*, Get*, BatchGet*, Lookup*)"


#: Retries per call after the first attempt (botocore's ``retries.max_attempts`` counts retries:
#: 6 attempts in all), in botocore's standard mode with exponential backoff.
MAX_ATTEMPTS = 5
FAULTS_VARIABLE = "TWELVEFACTOR_FAULTS"


@dataclass(frozen=True)
class FaultPlan:
    """Injected throttling and 5xx answers, for tests and benchmarks (never on by default).

    Written as ``share=0.3;attempts=1;seed=7;actions=ecr:DescribeImages,ssm:DescribeParameters``:
    each call (an operation with its parameters) is picked with probability ``share`` by a hash of
    ``seed`` and the request, so the same calls are picked in every run whatever the thread order;
    the first ``attempts`` attempts of a picked call get a throttling error (HTTP 400
    ThrottlingException, as AWS answers) or an HTTP 503, alternately by call, and later attempts go
    through. ``attempts`` up to 5 (the retries, see MAX_ATTEMPTS) tests that retries absorb the
    faults; ``attempts=6`` or more exhausts them. ``actions`` (IAM names, comma-separated)
    restricts the faults to those actions.
    """

    share: float
    attempts: int = 1
    seed: int = 0
    actions: frozenset[str] = frozenset()
    injected: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> FaultPlan | None:
        """The plan written in ``text`` (empty: no faults); a ConfigurationError if malformed."""
        if not text.strip():
            return None
        fields: dict[str, str] = {}
        for part in text.split(";"):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in {"share", "attempts", "seed", "actions"} or key in fields:
                raise ConfigurationError(
                    FAULTS_VARIABLE,
                    f"cannot read {part.strip()!r} in {text!r}.",
                    "write e.g. 'share=0.3;attempts=1;seed=7' (optionally "
                    "';actions=ecs:ListClusters,...'), or unset it: it is a test switch.",
                )
            fields[key] = value.strip()
        try:
            plan = cls(
                share=float(fields.get("share", "")),
                attempts=int(fields.get("attempts", "1")),
                seed=int(fields.get("seed", "0")),
                actions=frozenset(a.strip() for a in fields.get("actions", "").split(",") if a),
            )
            if not 0 <= plan.share <= 1 or plan.attempts < 1:
                raise ValueError
        except ValueError:
            raise ConfigurationError(
                FAULTS_VARIABLE,
                f"{text!r} needs share between 0 and 1 and whole numbers attempts >= 1 and seed.",
                "write e.g. 'share=0.3;attempts=1;seed=7', or unset it: it is a test switch.",
            ) from None
        return plan

    def picks(self, action: str, request: Any) -> bool:
        """Whether this call (whatever its attempt) is one of the faulted share."""
        if self.actions and action not in self.actions:
            return False
        body = request.body or b""
        if hasattr(body, "read"):  # a stream: never for the reads of the audit
            body = b""
        if isinstance(body, str):
            body = body.encode()
        digest = hashlib.sha256(
            f"{self.seed}|{action}|{request.method}|{request.url}|".encode() + body
        ).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.share

    def response(self, action: str, request: Any, protocol: str):
        """The faulty answer for this attempt, or None to let it through."""
        header = request.headers.get("amz-sdk-request", "")  # "attempt=2; max=5"
        if isinstance(header, bytes):
            header = header.decode()
        found = re.search(r"attempt=(\d+)", header)
        attempt = int(found.group(1)) if found else 1
        if attempt > self.attempts or not self.picks(action, request):
            return None
        with self._lock:
            self.injected[action] = self.injected.get(action, 0) + 1
        throttle = hashlib.sha256(f"{self.seed}|{request.url}|{action}".encode()).digest()[0] % 2
        return _fault_response(request.url, protocol, throttle=bool(throttle))


class _Body:
    """The raw part of an AWSResponse made up here (botocore reads it through ``stream``)."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any):
        yield self._data


def _fault_response(url: str, protocol: str, *, throttle: bool):
    """A throttling (HTTP 400) or unavailable (HTTP 503) answer in the service's protocol."""
    status, code = (400, "ThrottlingException") if throttle else (503, "ServiceUnavailable")
    if protocol == "query":
        code = "Throttling" if throttle else code
    elif protocol == "ec2":
        code = "RequestLimitExceeded" if throttle else "Unavailable"
    elif protocol == "rest-xml":  # S3 says SlowDown, with a 503
        status, code = 503, "SlowDown" if throttle else code
    message = "injected by TWELVEFACTOR_FAULTS (a test switch)"
    headers = {"x-amzn-RequestId": "twelvefactor-fault"}
    if protocol in {"json", "rest-json"}:
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["x-amzn-ErrorType"] = code
        body = json.dumps({"__type": code, "message": message}).encode()
    elif protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            "</Errors><RequestID>twelvefactor-fault</RequestID></Response>"
        ).encode()
    elif protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    elif protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>twelvefactor-fault</RequestId>"
            "</ErrorResponse>"
        ).encode()
    else:  # another protocol: a bare 503 is retryable everywhere
        status, body = 503, b""
    return botocore.awsrequest.AWSResponse(url, status, headers, _Body(body))


@dataclass
class CallStats:
    calls: int = 0
    errors: int = 0
    retries: int = 0
    seconds: float = 0.0


class CallMeter:
    """Counts every call per (service, operation); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], CallStats] = defaultdict(CallStats)

    def record(self, service: str, operation: str, seconds: float, retries: int, error: bool):
        with self._lock:
            stats = self._stats[(service, operation)]
            stats.calls += 1
            stats.seconds += seconds
            stats.retries += retries
            stats.errors += int(error)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(s.calls for s in self._stats.values())

    def as_records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "service": service,
                    "operation": operation,
                    "action": iam_action(service, operation),
                    "calls": s.calls,
                    "errors": s.errors,
                    "retries": s.retries,
                    "seconds": round(s.seconds, 4),
                }
                for (service, operation), s in sorted(self._stats.items())
            ]


class AwsAccess:
    """A boto3 session and its clients, shared by threads, guarded and metered."""

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        demo_in_process: bool = False,
        max_attempts: int = MAX_ATTEMPTS,
    ):
        """``demo``: the demo account (dummy credentials, never a real profile);
        ``demo_in_process``: it is mocked in this process by moto (no endpoint at all)."""
        self.settings = settings
        self.meter = CallMeter()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._demo_in_process = demo_in_process
        #: injected faults (tests and benchmarks only): None unless TWELVEFACTOR_FAULTS is set
        self.faults = FaultPlan.parse(settings.faults)
        if demo or demo_in_process:
            self.session = boto3.session.Session(**DEMO_CREDENTIALS)
        else:
            try:
                self.session = boto3.session.Session(profile_name=settings.profile or None)
            except botocore.exceptions.ProfileNotFound:
                raise ConfigurationError(
                    "profile",
                    f"no AWS profile named {settings.profile!r}.",
                    "use a profile from ~/.aws/config or run `aws configure --profile NAME`.",
                ) from None
        self._config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max(10, settings.max_workers),
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra="twelvefactor",
            # in-process moto intercepts only clients that keep AWS's own endpoints
            ignore_configured_endpoint_urls=True if demo_in_process else None,
        )

    # -- clients ---------------------------------------------------------------------------
    def client(self, service: str, region: str):
        """A guarded, metered client; one per (service, region), shared by threads."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(service, region)
            return self._clients[key]

    def _new_client(self, service: str, region: str, config: botocore.config.Config | None = None):
        kwargs: dict[str, Any] = {"region_name": region, "config": config or self._config}
        endpoint = self._endpoint_for(service)
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        client = self.session.client(service, **kwargs)
        events = client.meta.events
        events.register_first("before-parameter-build", self._guard)
        events.register("before-call", self._start_timer)
        events.register("after-call", self._stop_timer)
        events.register("after-call-error", self._stop_timer_error)
        if self.faults:
            protocol = client.meta.service_model.resolved_protocol
            plan = self.faults

            def inject(request, event_name, **_):
                # event: before-send.<service id>.<Operation>; first, so nothing is sent
                return plan.response(
                    iam_action(service, event_name.rsplit(".", 1)[-1]), request, protocol
                )

            events.register_first("before-send", inject)
        return client

    def _endpoint_for(self, service: str) -> str | None:
        if self._demo_in_process or not self.settings.endpoint_url:
            return None
        # a service-specific AWS_ENDPOINT_URL_<SERVICE_ID> wins over the general one: let
        # botocore read it by passing nothing
        service_id = self.session._session.get_service_model(service).service_id
        if os.environ.get("AWS_ENDPOINT_URL_" + service_id.replace(" ", "_").upper()):
            return None
        return self.settings.endpoint_url

    # -- hooks -----------------------------------------------------------------------------
    @staticmethod
    def _guard(params, model, **_):
        reason = refusal_reason(model.name, params)
        if reason:
            raise ReadOnlyViolation(model.service_model.service_name, model.name, reason)

    @staticmethod
    def _start_timer(model, context, **_):
        context["twelvefactor_call"] = (model.service_model.service_name, model.name)
        context["twelvefactor_start"] = time.perf_counter()

    def _stop_timer(self, model, context, parsed=None, http_response=None, **_):
        start = context.get("twelvefactor_start", time.perf_counter())
        meta = (parsed or {}).get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode", 200)
        self.meter.record(
            model.service_model.service_name,
            model.name,
            time.perf_counter() - start,
            meta.get("RetryAttempts", 0),
            error=status >= 400,
        )

    def _stop_timer_error(self, context, **_):
        service, operation = context.get("twelvefactor_call", ("unknown", "unknown"))
        start = context.get("twelvefactor_start", time.perf_counter())
        self.meter.record(service, operation, time.perf_counter() - start, 0, error=True)

    # -- identity --------------------------------------------------------------------------
    def identity(self, region: str) -> dict[str, str]:
        """STS caller identity; turns the usual set-up mistakes into one clear error."""
        # a quick-failing client of its own: a wrong endpoint or missing credentials should be
        # reported at once, not after the full retry budget
        quick = self._config.merge(
            botocore.config.Config(
                retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3
            )
        )
        try:
            ident = self._new_client("sts", region, quick).get_caller_identity()
        except botocore.exceptions.NoCredentialsError:
            raise ConfigurationError(
                "credentials",
                "no AWS credentials found.",
                "pass profile=NAME (CLI: --profile), export AWS_PROFILE, or run `aws sso login`; "
                "use --demo for the built-in demo account.",
            ) from None
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
        ) as exc:
            raise ConfigurationError(
                "endpoint_url",
                f"could not reach AWS ({exc}).",
                "check the network, or the endpoint_url / AWS_ENDPOINT_URL you gave "
                "(is the server running?).",
            ) from None
        except (
            botocore.exceptions.TokenRetrievalError,
            botocore.exceptions.SSOError,
            botocore.exceptions.UnauthorizedSSOTokenError,
        ) as exc:
            raise ConfigurationError(
                "credentials",
                f"the SSO session is missing or expired ({type(exc).__name__}).",
                f"run `aws sso login --profile {self.settings.profile or 'NAME'}`.",
            ) from None
        except (
            botocore.exceptions.CredentialRetrievalError,
            botocore.exceptions.PartialCredentialsError,
        ) as exc:
            raise ConfigurationError(
                "credentials",
                f"could not load the profile's credentials ({exc}).",
                "check the profile's credential_process / keys, or use another profile.",
            ) from None
        except botocore.exceptions.ProfileNotFound:
            raise ConfigurationError(
                "profile",
                f"no AWS profile named {self.settings.profile!r}.",
                "use a profile from ~/.aws/config or run `aws configure --profile NAME`.",
            ) from None
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}:
                raise ConfigurationError(
                    "credentials",
                    "your AWS credentials have expired.",
                    "refresh them (e.g. `aws sso login`) and run again.",
                ) from None
            if code in {
                "InvalidClientTokenId",
                "SignatureDoesNotMatch",
                "UnrecognizedClientException",
            }:
                raise ConfigurationError(
                    "credentials",
                    f"AWS rejected the credentials in {region} ({code}).",
                    f"check the profile's access key, or, if {region} is an opt-in region, "
                    "enable it for the account or list an enabled region first.",
                ) from None
            raise ConfigurationError(
                "credentials",
                f"sts:GetCallerIdentity failed ({code}).",
                "check the credentials and that STS is reachable from here.",
            ) from None
        return {"account": ident["Account"], "arn": ident["Arn"], "user_id": ident["UserId"]}
