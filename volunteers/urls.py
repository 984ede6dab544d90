from django.urls import path

from volunteers import views_coordinator as coord
from volunteers import views_public as public

app_name = "volunteers"

urlpatterns = [
    # Public (no account): the list, sign-up, a volunteer's own page by signed link, one-tap cover links.
    path("", public.shift_list, name="shift-list"),
    path("<int:pk>/", public.shift_signup, name="shift-signup"),
    path("me/<str:token>/", public.my_shifts, name="my-shifts"),
    path("me/<str:token>/shifts.ics", public.my_shifts_ics, name="my-shifts-ics"),
    path("me/<str:token>/cancel/<int:signup_id>/", public.my_shift_cancel, name="my-shift-cancel"),
    path("me/<str:token>/accept/<int:signup_id>/", public.my_shift_accept, name="my-shift-accept"),
    path("cover/<str:token>/", public.cover, name="cover"),
    # Coordinators only.
    path("rota/", coord.RotaView.as_view(), name="rota"),
    path("rota/export.csv", coord.RotaExportView.as_view(), name="rota-export"),
    path("rota/new/", coord.ShiftCreateView.as_view(), name="shift-create"),
    path("rota/copy-day/", coord.CopyDayView.as_view(), name="copy-day"),
    path("rota/<int:pk>/", coord.ShiftManageView.as_view(), name="shift-manage"),
    path("rota/<int:pk>/edit/", coord.ShiftUpdateView.as_view(), name="shift-edit"),
    path("rota/<int:pk>/cancel/", coord.ShiftCancelView.as_view(), name="shift-cancel"),
    path("rota/<int:pk>/assign/", coord.AssignView.as_view(), name="shift-assign"),
    path("rota/<int:pk>/cover/", coord.AskToCoverView.as_view(), name="shift-cover"),
    path("rota/<int:pk>/check-in/", coord.CheckInView.as_view(), name="check-in"),
    path("rota/signups/<int:signup_id>/<str:action>/", coord.SignupActionView.as_view(), name="signup-action"),
    path("volunteers/<int:pk>/", coord.VolunteerDetailView.as_view(), name="volunteer-detail"),
]
