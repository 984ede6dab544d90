"""OptOut.number_hash: a keyed hash of every number on the list, filled for the rows already there."""

from django.db import migrations, models


def fill_hashes(apps, schema_editor):
    from messaging.privacy import number_hash

    OptOut = apps.get_model("messaging", "OptOut")
    rows = list(OptOut.objects.only("pk", "number"))
    for row in rows:
        row.number_hash = number_hash(row.number)
    OptOut.objects.bulk_update(rows, ["number_hash"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_inbound_looks_like_opt_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="optout",
            name="number_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(fill_hashes, migrations.RunPython.noop, elidable=False),
    ]
