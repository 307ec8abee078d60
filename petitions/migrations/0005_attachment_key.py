"""Photos get an unguessable key for their URLs (ids are sequential)."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0004_receipt_secret"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="key",
            field=models.UUIDField(null=True, editable=False, verbose_name="mã ảnh"),
        ),
        # One random key per existing photo (a default on AddField would give them all the same one).
        migrations.RunSQL(
            "UPDATE petitions_attachment SET key = gen_random_uuid()", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.AlterField(
            model_name="attachment",
            name="key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="mã ảnh"),
        ),
    ]
