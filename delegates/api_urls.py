from rest_framework.routers import DefaultRouter

from delegates.api import ConferenceViewSet, DelegateViewSet, OrganisationViewSet

router = DefaultRouter()
router.register("conferences", ConferenceViewSet, basename="api-conference")
router.register("organisations", OrganisationViewSet, basename="api-organisation")
router.register("delegates", DelegateViewSet, basename="api-delegate")

urlpatterns = router.urls
