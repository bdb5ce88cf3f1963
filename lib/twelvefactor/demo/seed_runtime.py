"""Seeding of what runs around the services (factors VII-XII): the network and hosts, Cloud Map,
scaling, scheduled and one-off tasks. Mixed into :class:`twelvefactor.demo.seed.Seeder`.

Scenario shapes (per region):

* ``key_pairs: [name]``; ``security_groups: [{name, ingress: [{port, cidr}]}]`` in the default VPC.
* a cluster's ``hosts: [{key_pair, security_groups}]``: EC2 instances registered as container
  instances (EC2 capacity).
* ``cloud_map: {namespace, services: [name]}``: a private DNS namespace; a service names one with
  ``registry``.
* ``scaling: [{cluster, service, min, max, policies: [{name, metric, target}], scheduled: n}]``.
* ``schedules: [{kind: rule|scheduler, name, schedule, cluster, task_definition, launch_type,
  state, enable_execute_command}]``: ``task_definition`` "family" (unpinned, the latest) or
  "family:N" (pinned to the Nth registered revision), resolved like a service's.
* ``tasks: [{cluster, task_definition, started_by, group, count, stop_reason, exec}]``: tasks
  started with RunTask (moto's services never start any), stopped with ``stop_reason`` if given.
"""

from __future__ import annotations

import json
from typing import Any


class RuntimeSeeding:
    if False:  # pragma: no cover - attributes provided by Seeder
        scenario: Any
        clients: Any
        revisions: dict[tuple[str, str], list[str]]

    # -- network -------------------------------------------------------------------------------
    def default_subnets(self, region: str) -> list[dict[str, Any]]:
        """The default VPC's subnets, one per zone, sorted by zone (created by moto lazily)."""
        cache = self.__dict__.setdefault("_subnets", {})
        if region not in cache:
            subnets = self.clients("ec2", region).describe_subnets(
                Filters=[{"Name": "default-for-az", "Values": ["true"]}]
            )["Subnets"]
            cache[region] = sorted(subnets, key=lambda s: s["AvailabilityZone"])
        return cache[region]

    def security_group_ids(self, region: str, names: list[str]) -> list[str]:
        groups = self.__dict__.setdefault("_groups", {})
        if "default" in names and (region, "default") not in groups:
            vpc_id = self.default_subnets(region)[0]["VpcId"]
            found = self.clients("ec2", region).describe_security_groups(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "group-name", "Values": ["default"]},
                ]
            )["SecurityGroups"]
            groups[(region, "default")] = found[0]["GroupId"]
        missing = [n for n in names if (region, n) not in groups]
        if missing:
            raise ValueError(f"scenario: no security group {missing} declared in {region}")
        return [groups[(region, n)] for n in names]

    def network(self, region: str, spec: dict[str, Any]) -> None:
        ec2 = self.clients("ec2", region)
        for name in spec.get("key_pairs", []):
            ec2.create_key_pair(KeyName=name)  # the private key is discarded
        groups = self.__dict__.setdefault("_groups", {})
        vpc_id = None
        for g in spec.get("security_groups", []):
            vpc_id = vpc_id or self.default_subnets(region)[0]["VpcId"]
            group_id = ec2.create_security_group(
                GroupName=g["name"], Description=g.get("description", g["name"]), VpcId=vpc_id
            )["GroupId"]
            groups[(region, g["name"])] = group_id
            if g.get("ingress"):
                ec2.authorize_security_group_ingress(
                    GroupId=group_id,
                    IpPermissions=[
                        {
                            "IpProtocol": "tcp",
                            "FromPort": rule["port"],
                            "ToPort": rule.get("to_port", rule["port"]),
                            "IpRanges": [{"CidrIp": rule["cidr"]}],
                        }
                        for rule in g["ingress"]
                    ],
                )

    def network_configuration(self, region: str, net: dict[str, Any]) -> dict[str, Any]:
        """ECS awsvpc network configuration from {subnets: N zones, assign_public_ip, groups}."""
        subnets = self.default_subnets(region)[: net.get("subnets", 2)]
        config: dict[str, Any] = {
            "subnets": [s["SubnetId"] for s in subnets],
            "assignPublicIp": net.get("assign_public_ip", "DISABLED"),
        }
        # AWS falls back to the VPC's default group; moto needs one named
        groups = net.get("security_groups") or ["default"]
        config["securityGroups"] = self.security_group_ids(region, groups)
        return {"awsvpcConfiguration": config}

    def hosts(self, region: str, cluster: str, hosts: list[dict[str, Any]]) -> None:
        """EC2 instances registered with ``cluster`` (moto: an instance identity document)."""
        ec2, ecs = self.clients("ec2", region), self.clients("ecs", region)
        for h in hosts:
            kwargs: dict[str, Any] = {
                "ImageId": "ami-12c6146b",  # one of moto's known AMIs
                "MinCount": 1,
                "MaxCount": 1,
                "InstanceType": h.get("instance_type", "t3.medium"),
                "SubnetId": self.default_subnets(region)[0]["SubnetId"],
            }
            if h.get("key_pair"):
                kwargs["KeyName"] = h["key_pair"]
            if h.get("security_groups"):
                kwargs["SecurityGroupIds"] = self.security_group_ids(region, h["security_groups"])
            instance = ec2.run_instances(**kwargs)["Instances"][0]
            document = {
                "instanceId": instance["InstanceId"],
                "region": region,
                "availabilityZone": instance["Placement"]["AvailabilityZone"],
                "accountId": self.scenario.account,
            }
            ecs.register_container_instance(
                cluster=cluster, instanceIdentityDocument=json.dumps(document)
            )

    # -- Cloud Map ---------------------------------------------------------------------------
    def cloud_map(self, region: str, spec: dict[str, Any] | None) -> None:
        if not spec:
            return
        sd = self.clients("servicediscovery", region)
        vpc_id = self.default_subnets(region)[0]["VpcId"]
        sd.create_private_dns_namespace(Name=spec["namespace"], Vpc=vpc_id)
        namespace_id = next(
            n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == spec["namespace"]
        )
        registries = self.__dict__.setdefault("_registries", {})
        for name in spec.get("services", []):
            arn = sd.create_service(
                Name=name,
                NamespaceId=namespace_id,
                DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}], "RoutingPolicy": "MULTIVALUE"},
            )["Service"]["Arn"]
            registries[(region, name)] = arn

    def registry_arn(self, region: str, name: str) -> str:
        registries = self.__dict__.setdefault("_registries", {})
        if (region, name) not in registries:
            raise ValueError(f"scenario: no Cloud Map service {name!r} declared in {region}")
        return registries[(region, name)]

    # -- references to registered revisions --------------------------------------------------
    def revision_arn(self, region: str, ref: str) -> str:
        """ "family" -> its latest revision's ARN, "family:N" -> the Nth registered revision."""
        family, _, number = ref.partition(":")
        if (region, family) not in self.revisions:
            raise ValueError(f"scenario: no task definition family {family!r} in {region}")
        arns = self.revisions[(region, family)]
        return arns[int(number) - 1] if number else arns[-1]

    def cluster_arn(self, region: str, cluster: str) -> str:
        return f"arn:aws:ecs:{region}:{self.scenario.account}:cluster/{cluster}"

    # -- VIII. scaling -------------------------------------------------------------------------
    def scaling(self, region: str, targets: list[dict[str, Any]]) -> None:
        aas = self.clients("application-autoscaling", region)
        for t in targets:
            resource_id = f"service/{t['cluster']}/{t['service']}"
            common = {
                "ServiceNamespace": "ecs",
                "ResourceId": resource_id,
                "ScalableDimension": "ecs:service:DesiredCount",
            }
            aas.register_scalable_target(**common, MinCapacity=t["min"], MaxCapacity=t["max"])
            for p in t.get("policies", []):
                aas.put_scaling_policy(
                    **common,
                    PolicyName=p["name"],
                    PolicyType="TargetTrackingScaling",
                    TargetTrackingScalingPolicyConfiguration={
                        "TargetValue": float(p.get("target", 60)),
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": p.get(
                                "metric", "ECSServiceAverageCPUUtilization"
                            )
                        },
                        "ScaleInCooldown": 60,
                        "ScaleOutCooldown": 60,
                    },
                )

    # -- XII. scheduled and one-off tasks ------------------------------------------------------
    def schedules(self, region: str, schedules: list[dict[str, Any]]) -> None:
        account = self.scenario.account
        role = f"arn:aws:iam::{account}:role/ecsEventsRole"
        for s in schedules:
            ecs_parameters: dict[str, Any] = {
                "TaskDefinitionArn": self.schedule_task_definition(region, s["task_definition"]),
                "TaskCount": s.get("count", 1),
                "LaunchType": s.get("launch_type", "FARGATE"),
            }
            if s.get("enable_execute_command") is not None:
                ecs_parameters["EnableExecuteCommand"] = s["enable_execute_command"]
            if ecs_parameters["LaunchType"] == "FARGATE":
                # EventBridge and Scheduler spell ECS's awsvpcConfiguration in PascalCase
                vpc = self.network_configuration(region, s.get("network", {}))[
                    "awsvpcConfiguration"
                ]
                ecs_parameters["NetworkConfiguration"] = {
                    "awsvpcConfiguration": {
                        "Subnets": vpc["subnets"],
                        "SecurityGroups": vpc["securityGroups"],
                        "AssignPublicIp": vpc["assignPublicIp"],
                    }
                }
            cluster_arn = self.cluster_arn(region, s["cluster"])
            state = s.get("state", "ENABLED")
            if s.get("kind", "rule") == "rule":
                events = self.clients("events", region)
                events.put_rule(Name=s["name"], ScheduleExpression=s["schedule"], State=state)
                events.put_targets(
                    Rule=s["name"],
                    Targets=[
                        {
                            "Id": "ecs-task",
                            "Arn": cluster_arn,
                            "RoleArn": role,
                            "EcsParameters": ecs_parameters,
                        }
                    ],
                )
            else:
                self.clients("scheduler", region).create_schedule(
                    Name=s["name"],
                    ScheduleExpression=s["schedule"],
                    FlexibleTimeWindow={"Mode": "OFF"},
                    State=state,
                    Target={"Arn": cluster_arn, "RoleArn": role, "EcsParameters": ecs_parameters},
                )

    def schedule_task_definition(self, region: str, ref: str) -> str:
        """A scheduled target's task definition: "family" stays unpinned (ECS runs the latest
        ACTIVE revision), "family:N" becomes the Nth revision's ARN."""
        family, _, number = ref.partition(":")
        if (region, family) not in self.revisions:
            raise ValueError(f"scenario: no task definition family {family!r} in {region}")
        if not number:
            return f"arn:aws:ecs:{region}:{self.scenario.account}:task-definition/{family}"
        return self.revision_arn(region, ref)

    def tasks(self, region: str, tasks: list[dict[str, Any]]) -> None:
        ecs = self.clients("ecs", region)
        for t in tasks:
            kwargs: dict[str, Any] = {
                "cluster": t["cluster"],
                "taskDefinition": self.revision_arn(region, t["task_definition"]),
                "count": t.get("count", 1),
                "launchType": t.get("launch_type", "FARGATE"),
                "startedBy": t.get("started_by", "demo"),
            }
            if t.get("group"):
                kwargs["group"] = t["group"]
            if t.get("exec"):
                kwargs["enableExecuteCommand"] = True
            if kwargs["launchType"] == "FARGATE":
                # moto: awsvpc tasks need security groups (an HTTP 500 otherwise)
                kwargs["networkConfiguration"] = self.network_configuration(
                    region, t.get("network", {})
                )
            started = ecs.run_task(**kwargs)["tasks"]
            if t.get("stop_reason"):
                for task in started:
                    ecs.stop_task(
                        cluster=t["cluster"], task=task["taskArn"], reason=t["stop_reason"]
                    )
