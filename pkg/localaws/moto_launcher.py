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


_fix_dynamodb_transaction_snapshots()
_fix_cloudformation_novalue_in_lists()
_fix_cloudformation_condition_updates()
_aws_managed_policy = _load_aws_managed_policies_once()
_iam_changed = _publish_iam_changes()  # after every patch of IAM's mutating methods, so that it wraps them
_fix_cloudformation_role_updates(_iam_changed)
_fix_organization_account_access_role(_aws_managed_policy, _iam_changed)
_fix_stepfunctions_executions()

if __name__ == "__main__":
    main(sys.argv[1:])
