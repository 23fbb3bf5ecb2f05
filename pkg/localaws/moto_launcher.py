"""Start moto_server with the fixes Gangplank's local AWS needs applied first.

Run as: python3 moto_launcher.py -H 127.0.0.1 -p PORT

Each fix keeps moto's behaviour as AWS documents it and changes only what moto 5.2.1 gets wrong or does too
slowly to test a platform at scale. Each is applied only if moto still has the shape it patches.
"""
import copy
import json
import os
import struct
import sys
import threading
import zlib

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


def _fix_dynamodb_read_serialization():
    """DynamoDB reads (GetItem, Query, Scan, BatchGetItem, TransactGetItems): serialize the answer with json.dumps.

    moto 5.2.1 serializes every response through a generic, shape-driven serializer that walks each attribute value
    of each item against the service model: about 25 ms per account item, so one 100-item Query page costs over two
    seconds and listing 50,000 accounts would take most of an hour. These operations' answers are already DynamoDB
    JSON (items as {"attr": {"S": ...}}), which is exactly what the wire carries; json.dumps writes the same bytes
    the serializer would (binary values base64, as AWS sends them). Errors and every other operation keep moto's
    serializer.
    """
    import base64
    import datetime
    import json

    from moto.core import responses as core_responses

    reads = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
    original = getattr(core_responses.ActionResult, "execute_result", None)
    if original is None:
        return

    def encode(value):
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        raise TypeError(f"not JSON: {type(value).__name__}")

    def execute_result(self, context):
        result = self.result
        try:
            service = context.service_model.service_name
            operation = context.operation_model.name
        except Exception:  # noqa: BLE001 - an unknown operation: moto's serializer decides.
            return original(self, context)
        if service != "dynamodb" or operation not in reads or not isinstance(result, dict):
            return original(self, context)
        try:
            body = json.dumps(result, default=encode, separators=(",", ":"))
        except (TypeError, ValueError):
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    core_responses.ActionResult.execute_result = execute_result


def _fix_dynamodb_query_scale():
    """Query: answer from a cached, sorted view of the partition instead of scanning the whole table per page.

    moto 5.2.1 answers every Query page by listing every item of the table, comparing each with the key condition,
    sorting the matches, and walking them to the page's ExclusiveStartKey: O(table) per page, so listing a
    management account's 50,000 accounts (a few dozen 1 MB pages) would take hours. Here each (table, index,
    partition key) gets its matching items sorted once (in the order moto sorts them), reused until any write;
    a page bisects to its start key and reads on from there, applying the key condition, Limit and the 1 MB page
    size exactly as moto does. Queries with a filter, multi-attribute keys or anything unusual keep moto's path.
    """
    import bisect
    import copy as copy_module
    import decimal
    import threading

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

    state = {"generation": 0}
    cache = {}
    lock = threading.Lock()

    def bump():
        with lock:
            state["generation"] += 1
            cache.clear()

    def invalidating(fn):
        def wrapper(*args, **kwargs):
            bump()
            try:
                return fn(*args, **kwargs)
            finally:
                bump()
        return wrapper

    for owner, names in ((DynamoDBBackend, ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")),
                         (Table, ("put_item", "delete_item"))):
        for name in names:
            if hasattr(owner, name):
                setattr(owner, name, invalidating(getattr(owner, name)))

    def native(value):
        dt = value if isinstance(value, DynamoType) else DynamoType(value)
        if dt.type == "N":
            return (1, decimal.Decimal(dt.value))
        if dt.type == "S":
            return (0, dt.value)
        if dt.type == "B":
            return (2, dt.value if isinstance(dt.value, bytes) else str(dt.value).encode())
        raise TypeError(dt.type)

    def sorted_view(table, index_name, hash_attr, hash_value, attrs, range_keys):
        key = (id(table), index_name, hash_attr, native(hash_value))
        with lock:
            hit = cache.get(key)
            generation = state["generation"]
        if hit is not None:
            return hit
        if index_name is None:
            partition = table.items.get(hash_value) if table.range_key_attr else None
            items = list(partition.values()) if partition is not None else []
        else:
            wanted = native(hash_value)
            items = []
            for item in table.all_items():
                v = item.attrs.get(hash_attr)
                if v is None or native(v) != wanted:
                    continue
                if any(not item.attrs.get(k) for k in range_keys):
                    continue
                items.append(item)
        keyed = sorted(((tuple(native(it.attrs[a]) for a in attrs), it) for it in items), key=lambda p: p[0])
        view = ([k for k, _ in keyed], [it for _, it in keyed])
        with lock:
            if state["generation"] == generation:
                cache[key] = view
        return view

    original = DynamoDBBackend.query

    def query(self, table_name, hash_key_dict, range_comparison, range_value_dicts, limit, exclusive_start_key,
              scan_index_forward, projection_expressions, index_name=None, consistent_read=False, expr_names=None,
              expr_values=None, filter_expression=None, hash_key_conditions=None, range_key_conditions=None, **filter_kwargs):
        args = (table_name, hash_key_dict, range_comparison, range_value_dicts, limit, exclusive_start_key,
                scan_index_forward, projection_expressions, index_name, consistent_read, expr_names, expr_values,
                filter_expression, hash_key_conditions, range_key_conditions)
        try:
            answer = fast_query(self, *args, **filter_kwargs)
        except Exception:  # noqa: BLE001 - anything unexpected: moto's own path decides, errors included.
            answer = None
        if answer is None:
            return original(self, *args[:8], index_name=index_name, consistent_read=consistent_read, expr_names=expr_names,
                            expr_values=expr_values, filter_expression=filter_expression,
                            hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions, **filter_kwargs)
        return answer

    def fast_query(self, table_name, hash_key_dict, range_comparison, range_value_dicts, limit, exclusive_start_key,
                   scan_index_forward, projection_expressions, index_name, consistent_read, expr_names, expr_values,
                   filter_expression, hash_key_conditions, range_key_conditions, **filter_kwargs):
        if filter_expression or filter_kwargs or not hash_key_conditions or len(hash_key_conditions) != 1:
            return None
        if range_key_conditions and len(range_key_conditions) > 1:
            return None
        table = self.get_table(table_name)
        hash_attr, hash_raw = hash_key_conditions[0]
        hash_value = DynamoType(hash_raw)
        if index_name:
            index = next((i for i in table.all_indexes() if i.name == index_name), None)
            if index is None or not isinstance(index, GlobalSecondaryIndex):
                return None
            hash_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            range_keys = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if hash_keys != [hash_attr] or len(range_keys) != 1 or not table.range_key_attr:
                return None
            attrs = table._generate_attr_to_sort_by([hash_attr, table.hash_key_attr], [range_keys[0], table.range_key_attr])
            range_attr = range_keys[0]
        else:
            if hash_attr != table.hash_key_attr or not table.range_key_attr:
                return None
            attrs, range_keys = [table.range_key_attr], []
            range_attr = table.range_key_attr
        if range_key_conditions and range_key_conditions[0][0] != range_attr:
            return None
        keys, items = sorted_view(table, index_name, hash_attr, hash_value, attrs, range_keys)
        range_objs = [DynamoType(v) for v in range_value_dicts]
        order = range(len(items)) if scan_index_forward else range(len(items) - 1, -1, -1)
        if exclusive_start_key:
            if any(a not in exclusive_start_key for a in attrs):
                return None
            start = tuple(native(exclusive_start_key[a]) for a in attrs)
            order = range(bisect.bisect_right(keys, start), len(items)) if scan_index_forward else range(bisect.bisect_left(keys, start) - 1, -1, -1)
        results, size, last = [], 0, None
        for i in order:
            item = items[i]
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last = table._get_last_evaluated_key(results[-1], index_name)
                break
            if range_comparison:
                value = item.attrs.get(range_attr)
                if value is None or not value.compare(range_comparison, range_objs):
                    continue
            results.append(item)
            size += item.size()
        scanned = len(results)
        results = copy_module.deepcopy(results)
        if index_name:
            results = [table.get_index(index_name).project(r) for r in results]
        if projection_expressions:
            results = [r.project(projection_expressions) for r in results]
        return results, scanned, last

    DynamoDBBackend.query = query


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


# What a stack put on a role it created: the inline policy names and managed policy ARNs its template manages.
_TEMPLATE_POLICIES = "_gangplank_template_policies"
_TEMPLATE_MANAGED = "_gangplank_template_managed_policies"


def _fix_cloudformation_role_updates(iam_changed):
    """A stack update that changes an AWS::IAM::Role's trust policy or policies changes the role in AWS; moto only
    updates its description. Apply AssumeRolePolicyDocument, inline Policies and ManagedPolicyArns too (a rotated
    External ID reaches the role by exactly such an update). Deletion: see below."""
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
        # CloudFormation changes only what the template manages: policies the stack put on the role before and no
        # longer wants go, and policies someone else put on the role (a customer's own guardrail) stay.
        if "Policies" in props:
            wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or [] if p}
            for name in getattr(original_resource, _TEMPLATE_POLICIES, set()) - set(wanted):
                if name in role.policies:
                    backend.delete_role_policy(role.name, name)
            for name, doc in wanted.items():
                backend.put_role_policy(role.name, name, doc if isinstance(doc, str) else json.dumps(doc))
            setattr(role, _TEMPLATE_POLICIES, set(wanted))
        if "ManagedPolicyArns" in props:
            wanted_arns = set(props.get("ManagedPolicyArns") or [])
            for arn in getattr(original_resource, _TEMPLATE_MANAGED, set()) - wanted_arns:
                if arn in role.managed_policies:
                    backend.detach_role_policy(arn, role.name)
            for arn in wanted_arns - set(role.managed_policies):
                try:
                    backend.attach_role_policy(arn, role.name)
                except Exception:  # noqa: BLE001 - an AWS managed policy moto does not know
                    pass
            setattr(role, _TEMPLATE_MANAGED, wanted_arns)
        iam_changed(account_id)  # the trust policy is set directly, not through the backend
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
        role = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        # moto ignores ManagedPolicyArns when it creates a role (it applies them only on update): attach them, as
        # CloudFormation does; one that does not exist fails the resource, as in AWS.
        backend = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        for arn in props.get("ManagedPolicyArns") or []:
            backend.attach_role_policy(arn, role.name)
        setattr(role, _TEMPLATE_POLICIES, {p["PolicyName"] for p in props.get("Policies") or [] if p})
        setattr(role, _TEMPLATE_MANAGED, set(props.get("ManagedPolicyArns") or []))
        return role

    role_cls.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)

    # Deleting the stack deletes the role: CloudFormation first detaches the managed policies its template attached
    # (ManagedPolicyArns); moto deletes only the inline ones, and IAM then refuses with "must detach all policies
    # first". A policy someone else attached still blocks the deletion, as in AWS.
    original_delete = role_cls.delete_from_cloudformation_json.__func__

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        for role in list(backend.roles.values()):
            if role.name == resource_name:
                for arn in getattr(role, _TEMPLATE_MANAGED, set()) & set(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        return original_delete(cls, resource_name, cloudformation_json, account_id, region_name)

    role_cls.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)


def _fix_cloudformation_condition_updates():
    """A stack update whose new parameter values change a condition (`!If [ReadsTags, ...]` after AccessLevel
    changed) changes every resource that uses the condition, as CloudFormation re-evaluates the template. moto marks a
    resource modified only when it references a changed parameter directly, so the role kept its old policy. Mark the
    resources whose conditions depend on a changed parameter modified too."""
    import moto.cloudformation.parsing as parsing

    resource_map = getattr(parsing, "ResourceMap", None)
    if resource_map is None or not hasattr(resource_map, "build_resource_diff"):
        return
    original = resource_map.build_resource_diff

    def conditions_used(node, found):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::If" and isinstance(value, list) and value:
                    found.add(value[0])
                elif key == "Condition" and isinstance(value, str):
                    found.add(value)
                conditions_used(value, found)
        elif isinstance(node, list):
            for item in node:
                conditions_used(item, found)
        return found

    def parameters_of(condition, conditions, seen):
        if condition in seen:
            return set()
        seen.add(condition)
        refs = set(parsing.get_references_from_template(conditions.get(condition, {})))
        for nested in conditions_used(conditions.get(condition, {}), set()):
            refs |= parameters_of(nested, conditions, seen)
        return refs

    def build_resource_diff(self, other_template, parameters=None):
        actions = original(self, other_template, parameters)
        if not parameters:
            return actions
        changed = {p for p in parameters if self.input_parameters.get(p) != parameters[p]}
        conditions = other_template.get("Conditions", {}) or {}
        old = self._resource_json_map
        for name, resource in other_template.get("Resources", {}).items():
            if name not in old or name in actions["Modify"]:
                continue
            depends_on = set()
            for condition in conditions_used(resource, set()):
                depends_on |= parameters_of(condition, conditions, set())
            if depends_on & changed:
                actions["Modify"].append(name)
        return actions

    resource_map.build_resource_diff = build_resource_diff


def _load_aws_managed_policies_once():
    """AWS managed policies (ViewOnlyAccess, IAMReadOnlyAccess...) exist in every account, with the same documents.

    With MOTO_IAM_LOAD_MANAGED_POLICIES=true moto parses its 4 MB copy of them and builds all ~1,500 policies for
    every account the moment that account's IAM is first touched: about 0.1 s per account, minutes for an
    organization of thousands of accounts. Here the documents are parsed once, and an account gets its own copies
    (its own attachment counts) only when something in it reads or attaches a managed policy; a single policy can
    be had without building the rest (aws_managed_policy below).
    """
    from moto.iam import models as iam_models
    from moto.settings import load_iam_aws_managed_policies

    backend = iam_models.IAMBackend
    if not load_iam_aws_managed_policies() or not hasattr(backend, "_init_aws_policies"):
        return None
    templates = {}  # partition -> {arn: policy}
    lock = threading.Lock()

    def templates_for(b):
        with lock:
            if b.partition not in templates:
                data = json.loads(iam_models.aws_managed_policies_data)
                made = (iam_models.AWSManagedPolicy.from_data(name, b.account_id, b.region_name, d) for name, d in data.items())
                templates[b.partition] = {p.arn: p for p in made}
            return templates[b.partition]

    def own_copy(b, template):
        p = copy.copy(template)
        p.account_id, p.attachment_count = b.account_id, 0
        p.versions, p.tags = list(template.versions), dict(template.tags)
        return p

    def aws_managed_policy(b, arn):
        """One AWS managed policy of account b (the same object the account's full list holds once built)."""
        built = b.__dict__.get("_gp_aws_managed")
        if built is not None:
            return next((p for p in built if p.arn == arn), None)
        template = templates_for(b).get(arn)
        if template is None:
            return None
        early = b.__dict__.setdefault("_gp_aws_early", {})
        return early.setdefault(arn, own_copy(b, template))

    def get_aws(b):
        built = b.__dict__.get("_gp_aws_managed")
        if built is None:
            early = b.__dict__.get("_gp_aws_early", {})
            built = [early.get(arn) or own_copy(b, t) for arn, t in templates_for(b).items()]
            b.__dict__["_gp_aws_managed"] = built
        return built

    def get_managed(b):
        managed = b.__dict__.get("_gp_managed")
        if managed is None:
            managed = {p.arn: p for p in get_aws(b)}
            b.__dict__["_gp_managed"] = managed
        return managed

    def set_aws(b, value):
        b.__dict__["_gp_aws_managed"] = value

    def set_managed(b, value):
        b.__dict__["_gp_managed"] = value

    # GetAccountAuthorizationDetails lists an account's own managed policies and the AWS managed policies attached
    # to something in it; moto would list all ~1,500 AWS managed policies, with their documents, in every answer.
    original_details = backend.get_account_authorization_details

    def get_account_authorization_details(b, policy_filter):
        details = original_details(b, policy_filter)
        details["managed_policies"] = [p for p in details["managed_policies"]
                                       if not isinstance(p, iam_models.AWSManagedPolicy) or p.attachment_count > 0]
        return details

    backend.get_account_authorization_details = get_account_authorization_details

    # Attaching an AWS managed policy (every onboarding role attaches ViewOnlyAccess) needs that policy only; moto
    # looks it up in a map of all of the account's managed policies, which would build them.
    for kind, get in (("role", "get_role"), ("user", "get_user"), ("group", "get_group")):
        original_attach = getattr(backend, f"attach_{kind}_policy")

        def attach(b, policy_arn, name, _original=original_attach, _get=get):
            policy = aws_managed_policy(b, policy_arn) if b.__dict__.get("_gp_managed") is None else None
            if policy is None:  # the account's set is built, or the ARN is none of AWS's: moto's own way
                return _original(b, policy_arn, name)
            target = getattr(b, _get)(name)
            if policy.arn not in target.managed_policies:
                policy.attach_to(target)

        setattr(backend, f"attach_{kind}_policy", attach)
    backend._init_aws_policies = lambda b: None
    backend._init_managed_policies = lambda b: None
    backend.aws_managed_policies = property(get_aws, set_aws)
    backend.managed_policies = property(get_managed, set_managed)
    return aws_managed_policy


def _publish_iam_changes():
    """The edge caches each principal's policies (it evaluates them on every call that principal makes) and must
    learn of every change to IAM, whichever way it comes: an IAM call, a CloudFormation stack creating or deleting a
    role, Organizations creating a member account. Every mutating IAM operation bumps its account's counter in a
    shared file (GANGPLANK_IAM_GENERATIONS: little-endian uint64 slots, an account's slot is its CRC-32 modulo the
    slot count), before moto answers; the edge compares the counter with the one its cache entry was read at.
    Returns the bump function (a no-op when the edge did not ask)."""
    from moto.iam import models as iam_models

    path = os.environ.get("GANGPLANK_IAM_GENERATIONS")
    if not path:
        return lambda account_id: None
    fd = os.open(path, os.O_RDWR)
    slots = os.fstat(fd).st_size // 8
    lock = threading.Lock()

    def bump(account_id):
        offset = (zlib.crc32(str(account_id).encode()) % slots) * 8
        with lock:
            (n,) = struct.unpack("<Q", os.pread(fd, 8, offset))
            os.pwrite(fd, struct.pack("<Q", n + 1), offset)

    mutating = ("create_", "delete_", "put_", "attach_", "detach_", "add_", "remove_", "update_", "set_", "upload_",
                "enable_", "deactivate_", "tag_", "untag_")
    not_policy_state = {"create_temp_access_key"}  # every AssumeRole makes one: not a change to any principal

    def tracked(method):
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            finally:
                bump(self.account_id)
        wrapper.__name__ = method.__name__
        return wrapper

    for name in dir(iam_models.IAMBackend):
        method = getattr(iam_models.IAMBackend, name)
        if name.startswith(mutating) and name not in not_policy_state and callable(method):
            setattr(iam_models.IAMBackend, name, tracked(method))
    return bump


def _fix_organization_account_access_role(aws_managed_policy, iam_changed):
    """AWS Organizations gives every account it creates an OrganizationAccountAccessRole with the AWS managed
    AdministratorAccess policy attached; moto creates the role with no policy, so a session of it (as the edge
    evaluates identity policies) could do nothing. Attach AdministratorAccess, as AWS does."""
    import moto.organizations.models as org_models
    from moto.iam import models as iam_models

    account_cls = getattr(org_models, "FakeAccount", None)
    if aws_managed_policy is None or account_cls is None:
        return
    original = account_cls.__init__

    def __init__(self, organization, **kwargs):
        original(self, organization, **kwargs)
        backend = iam_models.iam_backends[self.id]["global"]
        name = kwargs.get("RoleName", "OrganizationAccountAccessRole")
        role = next((r for r in backend.roles.values() if r.name == name), None)
        policy = aws_managed_policy(backend, f"arn:{backend.partition}:iam::aws:policy/AdministratorAccess")
        if role is not None and policy is not None and not role.managed_policies:
            policy.attach_to(role)
            iam_changed(self.id)

    account_cls.__init__ = __init__


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


def _fix_secretsmanager_current_version():
    """GetSecretValue without VersionId or VersionStage returns the AWSCURRENT version (AWS documents it), but moto
    returns the version created first or last put with AWSCURRENT, and never follows UpdateSecretVersionStage: after
    a rotation moves AWSCURRENT, moto still hands out the old value. Ask for AWSCURRENT when nothing is named."""
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.get_secret_value

    def get_secret_value(self, secret_id, version_id, version_stage):
        if not version_id and not version_stage:
            version_stage = "AWSCURRENT"
        return original(self, secret_id, version_id, version_stage)

    SecretsManagerBackend.get_secret_value = get_secret_value


def _add_organization_seeding():
    """A local shortcut, not an AWS API: build a large organization in one request (POST
    /moto-api/gangplank/organization-seed), for the benchmarks only. Through the API, moto creates an account in
    O(accounts) (it scans every account to attach the default policies) and moves one in O(accounts) again, so an
    organization of 50,000 accounts would take hours to build; here it takes seconds. What is built is what the API
    would build (an organization with nested OUs and CREATED member accounts, each with the default policies
    attached), except that member accounts get no OrganizationAccountAccessRole unless memberRoles is true.

    Body: {"managementAccountId": "...", "ous": [{"name": "...", "parent": -1 | index of an earlier OU}],
           "accounts": [{"name": "...", "email": "...", "parent": -1 | OU index}], "memberRoles": false}
    Answer: {"rootId": "r-...", "ous": ["ou-...", ...], "accounts": ["123456789012", ...]} in the order given.
    """
    import json

    from moto.moto_api._internal import urls as api_urls
    from moto.organizations import models as org_models
    from moto.organizations import utils as org_utils

    def seed(request, full_url, headers):
        if request.method != "POST":
            return 405, {}, json.dumps({"Error": "POST an organization to seed"})
        size = int(headers.get("Content-Length") or 0)
        body = json.loads(request.environ["wsgi.input"].read(size).decode("utf-8"))
        management = body["managementAccountId"]
        backend = org_models.organizations_backends[management]["aws"]
        if backend.org is None:
            backend.create_organization(region="us-east-1", FeatureSet="ALL")
        org = backend.org
        defaults = [p for p in backend.policies if p.id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID)]

        def attach(target):
            for policy in defaults:
                target.attached_policies.append(policy)
                policy.attachments.append(target)

        ou_ids = []
        for spec in body.get("ous", []):
            parent = org.root_id if spec["parent"] < 0 else ou_ids[spec["parent"]]
            ou = org_models.FakeOrganizationalUnit(org, Name=spec["name"], ParentId=parent)
            backend.ou.append(ou)
            attach(ou)
            ou_ids.append(ou.id)

        taken = {a.id for a in backend.accounts} | set(org_models.organizations_backends.master_accounts)
        account_ids = []
        for spec in body.get("accounts", []):
            if body.get("memberRoles"):
                account = org_models.FakeAccount(org, AccountName=spec["name"], Email=spec["email"])
            else:
                # FakeAccount's constructor also creates the member role (an IAM backend per account); build the
                # same object without it.
                account = org_models.FakeAccount.__new__(org_models.FakeAccount)
                account.type, account.region = "ACCOUNT", org.region
                account.organization_id, account.master_account_id = org.id, org.master_account_id
                account.create_account_status_id = org_utils.make_random_create_account_status_id()
                account.id = org_utils.make_random_account_id()
                account.name, account.email = spec["name"], spec["email"]
                account.create_time = org_models.utcnow()
                account.status = account.state = "ACTIVE"
                account.joined_method = "CREATED"
                account.parent_id = org.root_id
                account.attached_policies, account.tags = [], {}
            while account.id in taken:
                account.id = org_utils.make_random_account_id()
            taken.add(account.id)
            if spec.get("parent", -1) >= 0:
                account.parent_id = ou_ids[spec["parent"]]
            backend.accounts.append(account)
            attach(account)
            org_models.organizations_backends.master_accounts[account.id] = (backend.account_id, backend.partition)
            account_ids.append(account.id)
        answer = {"rootId": org.root_id, "ous": ou_ids, "accounts": account_ids}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer)

    api_urls.url_paths["{0}/moto-api/gangplank/organization-seed"] = seed


_fix_dynamodb_transaction_snapshots()
_fix_dynamodb_read_serialization()
_fix_dynamodb_query_scale()
_fix_cloudformation_novalue_in_lists()
_fix_cloudformation_condition_updates()
_aws_managed_policy = _load_aws_managed_policies_once()
_iam_changed = _publish_iam_changes()  # after every patch of IAM's mutating methods, so that it wraps them
_fix_cloudformation_role_updates(_iam_changed)
_fix_organization_account_access_role(_aws_managed_policy, _iam_changed)
_fix_stepfunctions_executions()
_fix_dynamodb_query_cost()
_fix_tagging_api()
_add_seed_route()
_fix_secretsmanager_current_version()
_add_organization_seeding()

if __name__ == "__main__":
    main(sys.argv[1:])
