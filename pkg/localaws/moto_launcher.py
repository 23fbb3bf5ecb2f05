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


_fix_dynamodb_transaction_snapshots()

if __name__ == "__main__":
    main(sys.argv[1:])
