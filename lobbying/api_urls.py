from django.urls import path
from rest_framework.routers import SimpleRouter

from lobbying.api import MotionViewSet, StanceChangeViewSet, SubmissionViewSet, WhipCountView
from lobbying.api_briefings import BriefingViewSet, SavedListViewSet
from lobbying.api_proposals import ProposedStanceViewSet

router = SimpleRouter()
router.register("motions", MotionViewSet, basename="api-motion")
router.register("submissions", SubmissionViewSet, basename="api-submission")
router.register("stance-changes", StanceChangeViewSet, basename="api-stance-change")
router.register("proposed-stances", ProposedStanceViewSet, basename="api-proposed-stance")
router.register("briefings", BriefingViewSet, basename="api-briefing")
router.register("saved-lists", SavedListViewSet, basename="api-saved-list")

urlpatterns = [*router.urls, path("whip-counts/", WhipCountView.as_view(), name="api-whip-counts")]
