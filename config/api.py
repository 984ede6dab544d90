"""API conventions: a domain ValidationError becomes a 400 with per-field messages, never a 500; bulk downloads
are audited; and the schema declares, for every operation in one place, the error answers the API can give and
what their bodies hold."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from config.audit import BULK_DOWNLOAD, record_access


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class AuditedPagination(PageNumberPagination):
    """Page-number pagination that reports a bulk download to the access audit (config.audit).

    A list call is a bulk download when it reaches past the first page (``?page=2`` and on: someone is walking
    the whole list) or asks for more rows than the default page (``?page_size=`` above ``PAGE_SIZE``, where a
    view allows it). Reading the first default page, what the pages and the dashboard do, is not recorded.
    Each such call writes one event with the rows it returned.
    """

    def paginate_queryset(self, queryset, request, view=None):
        rows = super().paginate_queryset(queryset, request, view=view)
        if rows is not None and self.page is not None:
            beyond_first_page = self.page.number > 1
            bigger_page = self.get_page_size(request) > (self.page_size or 0)
            if beyond_first_page or bigger_page:
                record_access(
                    action=BULK_DOWNLOAD,
                    what=f"API list of {queryset.model._meta.verbose_name_plural}, page {self.page.number}",
                    count=len(rows),
                    actor=request.user,
                    detail={"page": self.page.number, "pages": self.page.paginator.num_pages,
                            "page_size": len(rows), "total": self.page.paginator.count},
                )  # fmt: skip
        return rows


# --- The schema's error answers (drf-spectacular postprocessing hook, SPECTACULAR_SETTINGS) ----------------------

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "What went wrong, for a person to read.",
}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Per-field messages: each field's name maps to a list of messages (an object for a nested field); "
        "`non_field_errors` holds what concerns the whole request; a request that cannot be read at all (bad "
        "JSON) gets `detail` instead."
    ),
    "properties": {"non_field_errors": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}],
    },
}
ERROR_RESPONSES = {
    "400": ("Bad input: nothing was changed.", "FieldErrors"),
    "401": ("No credentials, or a token that is unknown or expired.", "ErrorDetail"),
    "403": ("Signed in, but not a coordinator (or not allowed this action).", "ErrorDetail"),
    "404": ("No such object, or a page number past the end of the list.", "ErrorDetail"),
    "429": ("Too many requests: see API_RATE_USER / API_RATE_ANON and the Retry-After header.", "ErrorDetail"),
}


def declare_error_responses(result, generator, request, public):
    """Every operation, new ones included, declares 400/401/403/404/429 with their bodies, unless its view
    declared that status itself. Email fields are `idn-email`: Django's EmailValidator accepts internationalised
    domains (bücher.example), which `format: email` (ASCII only, RFC 5321) does not."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", DETAIL)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, component) in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    },
                )
    _internationalised_emails(schemas)
    return result


def _internationalised_emails(node):
    if isinstance(node, dict):
        if node.get("format") == "email":
            node["format"] = "idn-email"
        for value in node.values():
            _internationalised_emails(value)
    elif isinstance(node, list):
        for value in node:
            _internationalised_emails(value)
