"""Every opt-out now has its hash (0003); the number may be blanked by erasure, so it is unique only when set.

A migration of its own: on PostgreSQL the table cannot be altered in the transaction that updated its rows.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_optout_number_hash"),
    ]

    operations = [
        migrations.AlterField(
            model_name="optout",
            name="number_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="optout",
            name="number",
            field=models.CharField(blank=True, help_text="E.164; blank once its owner was erased.", max_length=32),
        ),
        migrations.AddConstraint(
            model_name="optout",
            constraint=models.UniqueConstraint(
                condition=models.Q(("number", ""), _negated=True), fields=("number",), name="optout_unique_number"
            ),
        ),
    ]
