"""API conventions: a domain ValidationError becomes a 400 with per-field messages, never a 500; bulk downloads
are audited."""

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
