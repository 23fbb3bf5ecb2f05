"""Start moto_server with the fixes Gangplank's local AWS needs applied first.

Run as: python3 moto_launcher.py -H 127.0.0.1 -p PORT

Each fix keeps moto's behaviour as AWS documents it and changes only what moto 5.2.1 gets wrong or does too
slowly to test a platform at scale. Each is applied only if moto still has the shape it patches.
"""
import copy
import sys

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import main


def _fix_dynamodb_transaction_snapshots():
    """TransactWriteItems: roll back with an undo log of the touched items, not a copy of every table.

    moto deep-copies each table a transaction touches (once per item) so it can restore the table if a condition
    fails. That makes every transaction cost O(table size): linking the 1,000th account copies 1,000 accounts
    three times. Here the whole-table copy becomes free (the copy is the table itself), and the items the
    transaction names are saved beforehand and put back if moto cancels the transaction. A transaction may name
    each item once (moto checks), so restoring those items restores exactly the state before it.
    """
    real_copy = copy

    class _TableSnapshotIsFree:
        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, Table):
                return value
            return real_copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(real_copy, name)

    if getattr(ddb_models, "copy", None) is not copy:
        return  # moto changed shape; leave it alone.
    ddb_models.copy = _TableSnapshotIsFree()

    original = DynamoDBBackend.transact_write_items

    def _key_of(table, op):
        if "Key" in op:
            return op["Key"]
        item = op.get("Item", {})
        key = {table.hash_key_attr: item.get(table.hash_key_attr)}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = item.get(table.range_key_attr)
        return key

    def transact_write_items(self, transact_items):
        undo = []
        for entry in transact_items:
            if len(entry) != 1:
                continue  # moto refuses these itself.
            _, op = next(iter(entry.items()))
            name = op.get("TableName")
            table = self.tables.get(name) if name else None
            if table is None:
                continue
            key = _key_of(table, op)
            try:
                before = self.get_item(name, key)
            except Exception:  # noqa: BLE001 - an invalid key fails the transaction below, before any write.
                continue
            undo.append((name, key, before.to_json()["Attributes"] if before else None))
        try:
            return original(self, transact_items)
        except Exception:
            for name, key, attrs in reversed(undo):
                if attrs is None:
                    if self.get_item(name, key) is not None:
                        self.delete_item(name, key)
                else:
                    self.put_item(name, attrs)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def _fix_cloudformation_novalue_in_lists():
    """CloudFormation removes a list item that resolves to AWS::NoValue (`!If [cond, {...}, !Ref AWS::NoValue]`);
    moto keeps it as None, and IAM::Role Policies then fails with a TypeError. Drop those items, as AWS does."""
    import moto.cloudformation.parsing as parsing

    original = getattr(parsing, "clean_json", None)
    if original is None:
        return

    def clean_json(resource_json, resources_map):
        if isinstance(resource_json, list):
            cleaned = [original(v, resources_map) for v in resource_json]
            return [v for v in cleaned if v is not None]
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def _fix_cloudformation_role_updates():
    """A stack update that changes an AWS::IAM::Role's trust policy or policies changes the role in AWS; moto only
    updates its description. Apply AssumeRolePolicyDocument, inline Policies and ManagedPolicyArns too (a rotated
    External ID reaches the role by exactly such an update)."""
    import json

    from moto.iam import models as iam_models

    role_cls = getattr(iam_models, "Role", None)
    if role_cls is None or not hasattr(role_cls, "update_from_cloudformation_json"):
        return
    original = role_cls.update_from_cloudformation_json.__func__

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        role = original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        props = cloudformation_json.get("Properties", {})
        backend = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        if "AssumeRolePolicyDocument" in props:
            doc = props["AssumeRolePolicyDocument"]
            role.assume_role_policy_document = doc if isinstance(doc, str) else json.dumps(doc)
        if "Policies" in props:
            wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or [] if p}
            for name in list(role.policies):
                if name not in wanted:
                    backend.delete_role_policy(role.name, name)
            for name, doc in wanted.items():
                backend.put_role_policy(role.name, name, doc if isinstance(doc, str) else json.dumps(doc))
        if "ManagedPolicyArns" in props:
            wanted_arns = set(props.get("ManagedPolicyArns") or [])
            for arn in list(role.managed_policies):
                if arn not in wanted_arns:
                    backend.detach_role_policy(arn, role.name)
            for arn in wanted_arns - set(role.managed_policies):
                try:
                    backend.attach_role_policy(arn, role.name)
                except Exception:  # noqa: BLE001 - an AWS managed policy moto does not know
                    pass
        return role

    role_cls.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)

    # Creation stores each inline policy's document as Python's repr of a dict ({'Statement': ...}), which is not
    # JSON: GetRolePolicy then returns something no client (and no policy evaluation) can read. Serialise it.
    original_create = role_cls.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        if props.get("Policies"):
            props = dict(props)
            props["Policies"] = [
                {**p, "PolicyDocument": p["PolicyDocument"] if isinstance(p["PolicyDocument"], str) else json.dumps(p["PolicyDocument"])}
                for p in props["Policies"] if p
            ]
            cloudformation_json = {**cloudformation_json, "Properties": props}
        return original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    role_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def _fix_stepfunctions_executions():
    """Step Functions (execute_state_machine mode): every StartExecution after the first fails with "cannot pickle
    '_thread.RLock'" (getmoto/moto#10077): the deep copy of the state machine reaches earlier executions through its
    executions list and its backend. Copy the machine without them. And an unnamed execution gets an ARN ending in
    ":None", so a second one collides: name it as AWS does, with a UUID."""
    import uuid

    import moto.stepfunctions.parser.models as parser_models

    real_copy = parser_models.copy

    class _MachineCopy:
        @staticmethod
        def deepcopy(value, memo=None):
            if hasattr(value, "executions") and hasattr(value, "backend"):
                saved = (value.executions, value.backend)
                value.executions, value.backend = [], None
                try:
                    clone = real_copy.deepcopy(value, memo)
                finally:
                    value.executions, value.backend = saved
                clone.executions, clone.backend = [], saved[1]
                return clone
            return real_copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(real_copy, name)

    parser_models.copy = _MachineCopy()
    backend = parser_models.StepFunctionsParserBackend
    original = backend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    backend.start_execution = start_execution


def _fix_dynamodb_query_cost():
    """Query reads one partition (a table's) or the index's items, as DynamoDB does; moto collected and sorted every
    item of the whole table for every Query page, so a page of a 100-item partition of a 200,000-item table took
    seconds, and deep-copied each page before answering it. The items a Query considers, and its answer, are
    unchanged."""
    import moto.dynamodb.models.table as table_module

    original = getattr(Table, "query", None)
    if original is None or not hasattr(Table, "all_items") or getattr(table_module, "copy", None) is not copy:
        return
    real_copy = copy

    class _ResultsNotCopied:
        """Query deep-copies the page it answers before projecting it; the answer is only serialized, so the copy of
        a 1 MB page (seconds on a busy machine) is skipped: the projection builds new items anyway."""

        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, list):
                return list(value)
            return real_copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(real_copy, name)

    _results_not_copied = _ResultsNotCopied()

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward, projection_expressions,
              index_name=None, *args, **kwargs):
        if index_name is None and hash_key is not None:
            partition = self.items.get(hash_key) if self.range_key_attr else None
            if self.range_key_attr:
                candidates = list(partition.values()) if partition else []
            else:
                one = self.items.get(hash_key)
                candidates = [one] if one is not None else []
        else:
            candidates = []
            for hash_set in self.items.values():
                if self.range_key_attr:
                    candidates.extend(hash_set.values())
                else:
                    candidates.append(hash_set)
        self.all_items = lambda: candidates  # the instance's, for this call only (the edge serializes DynamoDB calls)
        table_module.copy = _results_not_copied
        try:
            return original(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                            projection_expressions, index_name, *args, **kwargs)
        finally:
            table_module.copy = real_copy
            del self.all_items

    Table.query = query


def _fix_tagging_api():
    """The Resource Groups Tagging API as AWS documents it.

    - GetResources limits a page by ResourcesPerPage alone unless the caller sets TagsPerPage (moto always applies a
      default of 100 tags, so pages of well-tagged resources came back small), and honours ResourceARNList (moto
      ignored it and listed everything).
    - An S3 bucket is listed in its own region only (moto listed every bucket in every region).
    - TagResources and UntagResources tag what AWS lets them tag: EC2, S3, SQS, SNS, DynamoDB, CloudWatch Logs,
      Secrets Manager and KMS too (moto answered "Service not yet supported" for these). The edge checks the caller's
      service-level tag permissions first, as AWS does.
    """
    import json

    from moto.resourcegroupstaggingapi import models as tg_models
    from moto.resourcegroupstaggingapi import responses as tg_responses

    response_cls = getattr(tg_responses, "ResourceGroupsTaggingAPIResponse", None)
    backend_cls = getattr(tg_models, "ResourceGroupsTaggingAPIBackend", None)
    if response_cls is None or backend_cls is None or not hasattr(backend_cls, "_get_resources_generator"):
        return

    def get_resources(self):
        arns = self._get_param("ResourceARNList", [])
        if arns:
            wanted = set(arns)
            found = [r for r in self.backend._get_resources_generator(tag_filters=[], resource_type_filters=[]) if r["ResourceARN"] in wanted]
            return json.dumps({"ResourceTagMappingList": found, "PaginationToken": ""})
        token, mapping = self.backend.get_resources(
            pagination_token=self._get_param("PaginationToken"),
            tag_filters=self._get_param("TagFilters", []),
            resources_per_page=self._get_int_param("ResourcesPerPage", 50),
            tags_per_page=self._get_int_param("TagsPerPage", 0) or 10**9,
            resource_type_filters=self._get_param("ResourceTypeFilters", []),
        )
        return json.dumps({"ResourceTagMappingList": mapping, "PaginationToken": token})

    response_cls.get_resources = get_resources

    original_generator = backend_cls._get_resources_generator

    def generator(self, tag_filters=None, resource_type_filters=None):
        for r in original_generator(self, tag_filters=tag_filters or [], resource_type_filters=resource_type_filters):
            arn = r["ResourceARN"]
            if arn.startswith("arn:aws:s3:::") and "/" not in arn:
                bucket = self.s3_backend.buckets.get(arn[len("arn:aws:s3:::"):])
                if bucket is not None and getattr(bucket, "region_name", self.region_name) != self.region_name:
                    continue
            yield r

    backend_cls._get_resources_generator = generator

    original_tag, original_untag = backend_cls.tag_resources, backend_cls.untag_resources

    def parts(arn):
        p = arn.split(":", 5)
        return (p[2], p[3], p[5]) if len(p) == 6 else ("", "", "")

    def tag_one(self, arn, tags, remove):
        """Tags one resource of a service moto's Tagging API leaves out; False if it is not one of those."""
        from moto.sqs.models import sqs_backends
        from moto.sns.models import sns_backends
        from moto.logs.models import logs_backends
        from moto.dynamodb.models import dynamodb_backends
        from moto.secretsmanager.models import secretsmanager_backends
        from moto.kms.models import kms_backends

        service, region, resource = parts(arn)
        region = region or self.region_name
        acct = self.account_id
        if service == "ec2":
            rid = resource.split("/", 1)[-1]
            if remove:
                self.ec2_backend.delete_tags([rid], {k: None for k in tags})
            else:
                self.ec2_backend.create_tags([rid], tags)
        elif service == "s3" and "/" not in resource:
            current = {t["Key"]: t["Value"] for t in self.s3_backend.get_bucket_tagging(resource)["Tags"]}
            if remove:
                for k in tags:
                    current.pop(k, None)
            else:
                current.update(tags)
            self.s3_backend.put_bucket_tagging(resource, current)
        elif service == "sqs":
            backend = sqs_backends[acct][region]
            backend.untag_queue(resource, list(tags)) if remove else backend.tag_queue(resource, tags)
        elif service == "sns":
            backend = sns_backends[acct][region]
            backend.untag_resource(arn, list(tags)) if remove else backend.tag_resource(arn, tags)
        elif service == "logs":
            backend = logs_backends[acct][region]
            backend.untag_resource(arn, list(tags)) if remove else backend.tag_resource(arn, tags)
        elif service == "dynamodb":
            backend = dynamodb_backends[acct][region]
            backend.untag_resource(arn, list(tags)) if remove else backend.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])
        elif service == "secretsmanager":
            backend = secretsmanager_backends[acct][region]
            backend.untag_resource(arn, list(tags)) if remove else backend.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])
        elif service == "kms":
            backend = kms_backends[acct][region]
            backend.untag_resource(arn, list(tags)) if remove else backend.tag_resource(arn, [{"TagKey": k, "TagValue": v} for k, v in tags.items()])
        else:
            return False
        return True

    def apply(self, arns, tags, remove, original):
        failed, rest = {}, []
        for arn in arns:
            try:
                if not tag_one(self, arn, tags, remove):
                    rest.append(arn)
            except Exception as e:  # noqa: BLE001 - the resource's own service refused: AWS reports it per resource
                failed[arn] = {"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": str(e) or type(e).__name__}
        if rest:
            failed.update(original(self, rest, tags if not remove else list(tags)))
        return failed

    backend_cls.tag_resources = lambda self, resource_arns, tags: apply(self, resource_arns, tags, False, original_tag)
    backend_cls.untag_resources = lambda self, resource_arn_list, tag_keys: apply(self, resource_arn_list, tag_keys, True, original_untag)


def _add_seed_route():
    """POST /moto-api/gangplank/seed-resources creates many tagged resources in one account and region at once, so
    that scale tests and the local demo can fill an account in seconds instead of one API call per resource. Body:
    {"account", "region", "type": "sns:topic"|"sqs:queue"|"logs:log-group"|"ec2:volume"|"s3:bucket", "prefix",
    "start", "count", "tags": {key: value with {i}}, "cycle": {key: [values picked by i]}}."""
    import json

    from moto.moto_api._internal import urls as api_urls

    def seed(request, full_url, headers):
        from moto.ec2 import ec2_backends
        from moto.logs.models import logs_backends
        from moto.s3.models import s3_backends
        from moto.sns.models import sns_backends
        from moto.sqs.models import sqs_backends

        body = json.loads(request.data or b"{}") if hasattr(request, "data") else json.loads(request.body or b"{}")
        acct, region, kind = body["account"], body["region"], body["type"]
        prefix, start, count = body.get("prefix", "r"), int(body.get("start", 0)), int(body.get("count", 0))
        fixed, cycle = body.get("tags", {}), body.get("cycle", {})
        arns = []
        for i in range(start, start + count):
            tags = {k: str(v).replace("{i}", str(i)) for k, v in fixed.items()}
            for k, values in cycle.items():
                if values:
                    tags[k] = values[i % len(values)]
            name = f"{prefix}-{i}"
            if kind == "sns:topic":
                arns.append(sns_backends[acct][region].create_topic(name, tags=tags).arn)
            elif kind == "sqs:queue":
                q = sqs_backends[acct][region].create_queue(name, tags=tags)
                arns.append(q.queue_arn)
            elif kind == "logs:log-group":
                g = logs_backends[acct][region].create_log_group(name, tags)
                arns.append(g.arn)
            elif kind == "ec2:volume":
                backend = ec2_backends[acct][region]
                v = backend.create_volume(size=1, zone_name=region + "a")
                backend.create_tags([v.id], tags)
                arns.append(f"arn:aws:ec2:{region}:{acct}:volume/{v.id}")
            elif kind == "s3:bucket":
                backend = s3_backends[acct]["aws"]
                b = backend.create_bucket(name, region)
                backend.put_bucket_tagging(name, tags)
                arns.append(b.arn)
            else:
                return 400, {}, json.dumps({"error": "unsupported type " + kind})
        return 200, {"Content-Type": "application/json"}, json.dumps({"arns": arns})

    api_urls.url_paths["{0}/moto-api/gangplank/seed-resources"] = seed


_fix_dynamodb_transaction_snapshots()
_fix_cloudformation_novalue_in_lists()
_fix_cloudformation_role_updates()
_fix_stepfunctions_executions()
_fix_dynamodb_query_cost()
_fix_tagging_api()
_add_seed_route()

if __name__ == "__main__":
    main(sys.argv[1:])
