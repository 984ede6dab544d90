from config.permissions import is_coordinator


def site(request):
    return {"is_coordinator": is_coordinator(getattr(request, "user", None))}
