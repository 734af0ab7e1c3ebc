"""The automation form. Its file source fields come from the sources' declared settings: one
field per setting name (the chosen type's are shown, automation_form.js hides the others), and a
password box per secret, which is never filled in: empty keeps the stored value."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any, cast

from django import forms
from django.conf import settings
from django.urls import reverse

from imports.choices import OnInvalidValue

from .. import services
from ..models import Automation
from ..sources import Declared, SourceConfigError, all_settings, source_for, sources

KEEP = "Leave empty to keep the current value."


class SecretTextarea(forms.Textarea):
    """A textarea that, like ``PasswordInput(render_value=False)``, never sends its value back:
    a form redisplayed with errors must not echo a private key into the page."""

    def format_value(self, value: Any) -> None:
        return None


def form_field_name(name: str) -> str:
    """The form field of a ``file_source`` key. Secrets have their own names, so that the model form
    never writes them back empty (an empty secret box means "unchanged")."""
    if name == "type":
        return "source_type"
    declared = all_settings().get(name)
    return f"new_{name}" if declared is not None and declared.options.secret else name


def _form_field(declared: Declared) -> forms.Field:
    options = declared.options
    common: dict[str, Any] = {"label": options.label, "required": False, "help_text": options.help_text}
    if options.secret:
        widget: forms.Widget
        if options.multiline:
            widget = SecretTextarea(
                attrs={
                    "rows": 4,
                    "cols": 80,
                    "class": "pixee-mono",
                    "autocomplete": "off",
                    "spellcheck": "false",
                }
            )
        else:
            widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        return forms.CharField(
            strip=False, widget=widget, **{**common, "help_text": f"{options.help_text} {KEEP}".strip()}
        )
    if declared.kind is int:
        return forms.IntegerField(min_value=options.min_value, max_value=options.max_value, **common)
    if declared.kind is dict:
        return forms.JSONField(widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}), **common)
    if options.multiline:
        # A key line is ~100 characters: wide enough to check it at a glance.
        wide = forms.Textarea(attrs={"rows": 2, "cols": 80, "class": "pixee-mono", "spellcheck": "false"})
        return forms.CharField(max_length=options.max_length, widget=wide, **common)
    return forms.CharField(max_length=options.max_length, **common)


def _secrets() -> list[Declared]:
    return [declared for declared in all_settings().values() if declared.options.secret]


# The form's file source fields, in the order the form shows them: the type, then every setting
# that is not a secret; and the secrets' boxes.
SOURCE_FORM_FIELDS = ("source_type", *(n for n, d in all_settings().items() if not d.options.secret))
SECRET_FORM_FIELDS = tuple(form_field_name(d.name) for d in _secrets())


class _AutomationForm(forms.ModelForm):
    source_type = forms.ChoiceField(label="Type", choices=())
    timezone = forms.ChoiceField(choices=())
    clear_secrets = forms.MultipleChoiceField(
        label="Clear",
        required=False,
        choices=[(d.name, d.name.replace("_", " ")) for d in _secrets()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Remove these stored secrets.",
    )

    class Media:
        js = ("pixee/automation_form.js",)

    class Meta:
        model = Automation
        fields = ["name", "supplier_code", "schedule", "timezone", "is_active", "mapping", "on_invalid_value"]

    current_user: Any = None  # set by the admin's get_form

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The primary key is a UUID set on construction: ``adding`` is what tells a new automation.
        adding = self.instance._state.adding
        self.fields["on_invalid_value"].required = False  # left out: skip_row, as in the API
        cast(forms.ChoiceField, self.fields["source_type"]).choices = [(s.type, s.label) for s in sources()]
        cast(forms.ChoiceField, self.fields["timezone"]).choices = [
            (z, z) for z in sorted(zoneinfo.available_timezones())
        ]
        if adding:
            # As the API: the server's time zone, not the first of the list (Africa/Abidjan).
            self.fields["timezone"].initial = settings.TIME_ZONE
            for name in SECRET_FORM_FIELDS:  # nothing stored yet to keep
                field = self.fields[name]
                field.help_text = field.help_text.replace(KEEP, "").strip()
        self.initial.update(self._source_initial({} if adding else self.instance.source().values()))
        self.service_kwargs: dict[str, Any] = {}
        attrs = self.fields["source_type"].widget.attrs
        attrs["data-test-url"] = reverse("admin:automations_automation_test_connection")
        if not adding:  # stored secrets are used when none is typed
            attrs["data-automation"] = str(self.instance.pk)
        # For automation_form.js: preview the schedule as it is typed, show the chosen type's fields.
        self.fields["schedule"].widget.attrs["data-preview-url"] = reverse(
            "admin:automations_automation_schedule_preview"
        )
        attrs["data-source-fields"] = json.dumps(
            {s.type: [form_field_name(d.name) for d in s.settings_class.declared()] for s in sources()}
        )

    @staticmethod
    def _source_initial(current: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"source_type": current.get("type")} if current else {}
        for name, declared in all_settings().items():
            if not declared.options.secret:
                initial[name] = current.get(name, {} if declared.kind is dict else None)
        return initial

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and self.errors:
            # The secrets typed were not sent back (write-only): say so, or the operator may save
            # the corrected form without them.
            for field in SECRET_FORM_FIELDS:
                if self.data.get(self.add_prefix(field)) and field not in self.errors:
                    self.add_error(field, "Enter it again: secrets are never sent back to the page.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # clean() runs before the form touches the instance: it still holds the stored secrets.
        self.service_kwargs = {
            "name": data.get("name") or "",
            "supplier_code": data.get("supplier_code") or "",
            "schedule": data.get("schedule") or "",
            "timezone_name": data.get("timezone") or "",
            "file_source": self._file_source(data),
            "mapping": data.get("mapping") or {},
            "on_invalid_value": data.get("on_invalid_value") or OnInvalidValue.SKIP_ROW,
        }
        try:
            services.automation_clean(**self.service_kwargs, actor=self.current_user)
        except services.AutomationInvalid as exc:
            self._add_service_errors(exc.errors)
        self.service_kwargs["is_active"] = data.get("is_active", True)
        return data

    def _file_source(self, data: dict[str, Any]) -> dict[str, Any]:
        """The chosen type's settings as the form gives them; the other types' fields are left
        behind, not refused."""
        current = {} if self.instance._state.adding else self.instance.source().values()
        source_type = data.get("source_type") or ""
        try:
            declared = source_for(source_type).settings_class.declared()
        except SourceConfigError:
            declared = ()
        file_source: dict[str, Any] = {"type": source_type}
        for setting in declared:
            if setting.options.secret:
                new = data.get(form_field_name(setting.name))
                cleared = setting.name in (data.get("clear_secrets") or [])
                value = new if new else ("" if cleared else current.get(setting.name, ""))
            else:
                value = data.get(setting.name)
            if setting.options.multiline and isinstance(value, str):
                # Browsers send a textarea's lines with CRLF; store the text as the API would receive it.
                value = value.replace("\r\n", "\n")
            file_source[setting.name] = value
        return file_source

    def _add_service_errors(self, errors: dict[str, Any]) -> None:
        for field, messages_ in errors.items():
            if field == "file_source":
                for name, source_messages in messages_.items():
                    target = form_field_name(name)
                    for message in source_messages:
                        self.add_error(target if target in self.fields else None, message)
            else:
                target = "timezone" if field == "timezone_name" else field
                for message in messages_:
                    self.add_error(target if target in self.fields else None, message)


# The declared fields of a form class are those its class statement has: the settings' fields are
# added here, once the sources have all registered.
AutomationForm = type(
    "AutomationForm",
    (_AutomationForm,),
    {
        "__module__": __name__,
        **{form_field_name(name): _form_field(declared) for name, declared in all_settings().items()},
    },
)
