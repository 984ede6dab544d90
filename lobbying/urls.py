from django.urls import path

from lobbying import views, views_briefings, views_proposals

app_name = "lobbying"

urlpatterns = [
    path("motions/", views.MotionListView.as_view(), name="motion-list"),
    path("motions/new/", views.MotionCreateView.as_view(), name="motion-create"),
    path("motions/composite/new/", views.CompositeCreateView.as_view(), name="composite-create"),
    path("motions/<int:pk>/", views.MotionDetailView.as_view(), name="motion-detail"),
    path("motions/<int:pk>/edit/", views.MotionUpdateView.as_view(), name="motion-update"),
    path("motions/<int:pk>/transition/", views.MotionTransitionView.as_view(), name="motion-transition"),
    path("motions/<int:pk>/result/", views.MotionResultView.as_view(), name="motion-result"),
    path("motions/<int:pk>/talk-next/", views.TalkNextView.as_view(), name="talk-next"),
    path("stances/", views.StanceDelegateListView.as_view(), name="stance-delegates"),
    path("whip/live/", views.WhipLiveView.as_view(), name="whip-live"),
    path("whip-sheet/", views.WhipSheetView.as_view(), name="whip-sheet"),
    path("pipeline/", views.PipelineView.as_view(), name="pipeline"),
    path("pipeline/<int:pk>/move/", views.SubmissionMoveView.as_view(), name="submission-move"),
    path("proposals/", views_proposals.ProposalListView.as_view(), name="proposal-list"),
    path("proposals/<int:pk>/accept/", views_proposals.ProposalAcceptView.as_view(), name="proposal-accept"),
    path("proposals/<int:pk>/reject/", views_proposals.ProposalRejectView.as_view(), name="proposal-reject"),
    path("assignments/", views.AssignmentListView.as_view(), name="assignment-list"),
    path("assignments/new/", views.AssignmentCreateView.as_view(), name="assignment-create"),
    path("assignments/<int:pk>/", views.AssignmentDetailView.as_view(), name="assignment-detail"),
    path("assignments/<int:pk>/revoke/", views.AssignmentRevokeView.as_view(), name="assignment-revoke"),
    path("briefings/", views_briefings.BriefingListView.as_view(), name="briefing-list"),
    path("briefings/new/", views_briefings.BriefingCreateView.as_view(), name="briefing-create"),
    path("briefings/<int:pk>/", views_briefings.BriefingDetailView.as_view(), name="briefing-detail"),
    path("briefings/<int:pk>/send/", views_briefings.BriefingSendView.as_view(), name="briefing-send"),
    path("briefings/<int:pk>/test/", views_briefings.BriefingTestSendView.as_view(), name="briefing-test-send"),
    path("briefings/<int:pk>/schedule/", views_briefings.BriefingScheduleView.as_view(), name="briefing-schedule"),
    path("briefings/<int:pk>/progress/", views_briefings.BriefingProgressView.as_view(), name="briefing-progress"),
    path("briefings/<int:pk>/report/", views_briefings.BriefingReportView.as_view(), name="briefing-report"),
    path("briefings/<int:pk>/<slug:action>/", views_briefings.BriefingActionView.as_view(), name="briefing-action"),
    # The volunteer's private link: no login, the signed token is the key.
    path("v/<str:token>/", views.VolunteerLinkView.as_view(), name="volunteer-link"),
]
