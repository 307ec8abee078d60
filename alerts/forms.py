"""The rule form of the web UI (and of the admin): a place given as longitude/latitude, lists as text."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from alerts.models import Rule
from alerts.rules import rule_errors
from gis_ioc import roles


def _codes(text: str) -> list[str]:
    return [c.strip() for c in (text or "").replace(";", ",").split(",") if c.strip()]


class RuleForm(forms.ModelForm):
    """Every kind of rule in one form; which fields matter depends on the kind (validated by rule_errors)."""

    statistic = forms.ChoiceField(label=_("Chỉ tiêu"), required=False)
    category = forms.ChoiceField(label=_("Lĩnh vực phản ánh"), required=False)
    longitude = forms.FloatField(label=_("Kinh độ"), required=False)
    latitude = forms.FloatField(label=_("Vĩ độ"), required=False)
    communes = forms.CharField(label=_("Chỉ các xã (mã, cách nhau bởi dấu phẩy)"), required=False)
    recipient_roles = forms.MultipleChoiceField(
        label=_("Vai trò nhận"), required=False, choices=list(roles.ROLES.items()), widget=forms.CheckboxSelectMultiple
    )
    recipient_communes = forms.CharField(label=_("Xã nhận (mã, cách nhau bởi dấu phẩy)"), required=False)
    recipient_users = forms.ModelMultipleChoiceField(
        label=_("Người nhận"),
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )

    class Meta:
        model = Rule
        fields = [
            "name", "kind", "severity", "active", "statistic", "period", "operator", "value", "category",
            "radius_m", "communes", "recipient_roles", "recipient_communes", "recipient_users", "email", "webhooks",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from layers import statistics
        from petitions.models import Category

        super().__init__(*args, **kwargs)
        statistic, category = self.fields["statistic"], self.fields["category"]
        assert isinstance(statistic, forms.ChoiceField) and isinstance(category, forms.ChoiceField)
        language = translation.get_language()
        statistic.choices = [("", "—"), *((s.code, s.title(language)) for s in statistics.STATISTICS.values())]
        category.choices = [("", _("Mọi lĩnh vực")), *Category.choices]
        rule = self.instance
        # Code lists are typed as text: a new rule shows empty boxes, not the list's "[]".
        self.initial["communes"] = ", ".join(rule.communes or [])
        self.initial["recipient_communes"] = ", ".join(rule.recipient_communes or [])
        if rule.pk:
            if rule.place:
                self.initial["longitude"], self.initial["latitude"] = rule.place.x, rule.place.y

    def clean_statistic(self) -> str:
        return self.cleaned_data.get("statistic") or ""

    def clean_communes(self) -> list[str]:
        return _codes(self.cleaned_data.get("communes", ""))

    def clean_recipient_communes(self) -> list[str]:
        return _codes(self.cleaned_data.get("recipient_communes", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lon, lat = data.get("longitude"), data.get("latitude")
        place = Point(lon, lat, srid=4326) if lon is not None and lat is not None else None
        rule = self.instance
        for name in ("kind", "statistic", "period", "operator", "value", "category", "radius_m", "communes"):
            if name in data:
                setattr(rule, name, data[name])
        rule.place = place
        rule.recipient_roles = data.get("recipient_roles") or []
        rule.recipient_communes = data.get("recipient_communes") or []
        rule._users_given = bool(data.get("recipient_users"))  # the M2M is saved after the row
        for name, message in rule_errors(rule).items():
            target = "longitude" if name == "place" else name
            if target in self.fields and target not in self.errors:
                self.add_error(target, message)
        return data
