from django.db import migrations, models


class Migration(migrations.Migration):
    """The description's limit, which validation enforces, on the model: the state only.

    A TextField's max_length changes no column (``text`` on PostgreSQL and SQLite alike), but
    SQLite would rebuild the whole catalog table to alter it.
    """

    dependencies = [
        ("catalog", "0003_undo_bookkeeping"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="product",
                    name="description",
                    field=models.TextField(blank=True, default="", max_length=65000),
                ),
            ],
        ),
    ]
