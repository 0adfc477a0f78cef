"""Migration operations shared by the apps' migrations. Migrations import these by name, so
they are kept as they are: a change of behaviour is a new operation."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


class DropIndexesKeepingForeignKeys(migrations.SeparateDatabaseAndState):
    """AlterFields whose only database change is dropping a field's index (``db_index`` off)
    or its plain UNIQUE (``unique`` off, usually replaced by a partial constraint).

    Django's AlterField on PostgreSQL drops and re-adds a foreign key around such a change,
    which re-checks every row of the table under an exclusive lock (13 s for the outbox at
    1,000,000 rows, with sends and bookings waiting). On PostgreSQL this drops only the
    indexes, found as Django's AlterField finds them; other databases, and going backwards,
    run the AlterFields as usual."""

    def __init__(self, operations: list[migrations.AlterField]) -> None:
        super().__init__(database_operations=operations, state_operations=operations)
        self.alterations = operations

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        for operation in self.alterations:
            model = from_state.apps.get_model(app_label, operation.model_name)
            old = model._meta.get_field(operation.name)
            new = to_state.apps.get_model(app_label, operation.model_name)._meta.get_field(
                operation.name
            )
            if old.db_type(schema_editor.connection) != new.db_type(schema_editor.connection):
                raise ValueError(f"{operation.name}: only an index may change here")
            column, table = old.column, model._meta.db_table
            kept = {index.name for index in model._meta.indexes}
            if old.unique and not new.unique:
                for name in schema_editor._constraint_names(
                    model, [column], unique=True, primary_key=False
                ):
                    schema_editor.execute(schema_editor._delete_unique_sql(model, name))
            elif old.db_index and not new.db_index:
                for name in schema_editor._constraint_names(
                    model, [column], index=True, type_=models.Index.suffix, exclude=kept
                ):
                    schema_editor.execute(schema_editor._delete_index_sql(model, name))
            else:
                raise ValueError(f"{operation.name}: no index is dropped here")
            if isinstance(old, models.CharField | models.TextField):
                # The varchar_pattern_ops twin Django adds for LIKE (DROP INDEX IF EXISTS).
                like = schema_editor._create_index_name(table, [column], suffix="_like")
                schema_editor.execute(schema_editor._delete_index_sql(model, like))
