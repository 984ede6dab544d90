from rest_framework.routers import DefaultRouter

from volunteers.api import LocationViewSet, ShiftViewSet, SignupViewSet, VolunteerViewSet

router = DefaultRouter()
router.include_root_view = False  # delegates' router serves /api/
router.register("shifts", ShiftViewSet, basename="api-shift")
router.register("shift-locations", LocationViewSet, basename="api-shift-location")
router.register("volunteers", VolunteerViewSet, basename="api-volunteer")
router.register("signups", SignupViewSet, basename="api-signup")

urlpatterns = router.urls
