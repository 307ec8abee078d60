"""The communes layer serves the versions valid on a day (today by default) instead of only the open
ones: its catalog row gets the validity pair, unless someone edited the row's filter already."""

from typing import Any

from django.db import migrations

OLD_FILTER = {"level": "commune", "valid_to__isnull": True}


def forwards(apps: Any, schema_editor: Any) -> None:
    Layer = apps.get_model("layers", "Layer")
    for layer in Layer.objects.filter(slug="communes", source_model="gis_ioc.AdminUnit"):
        if layer.source_filter == OLD_FILTER:
            layer.source_filter = {"level": "commune"}
            layer.temporal_field, layer.valid_to_field = "valid_from", "valid_to"
            layer.version += 1
            layer.save(update_fields=["source_filter", "temporal_field", "valid_to_field", "version"])


class Migration(migrations.Migration):
    dependencies = [("layers", "0005_layer_validity")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
