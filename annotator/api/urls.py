"""/api/v1/ routes. Each app's API views are registered here."""

from django.urls import path

from annotator.api.views import projects as project_views
from annotator.api.views import spans as span_views
from annotator.api.views import tokens as token_views

app_name = "api"
urlpatterns: list = []

# Projects, queues and spans (annotation).
urlpatterns += [
    path("projects/", project_views.ProjectListApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", project_views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/labels/", project_views.LabelListApi.as_view(), name="label-list"),
    path("projects/<slug:slug>/queue/", project_views.QueueApi.as_view(), name="queue"),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/",
        project_views.ArticleForAnnotationApi.as_view(),
        name="article-for-annotation",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/status/",
        project_views.AssignmentStatusUpdateApi.as_view(),
        name="assignment-status-update",
    ),
    path("projects/<slug:slug>/articles/<int:article_id>/spans/", span_views.SpanListApi.as_view(), name="span-list"),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/spans/create/",
        span_views.SpanCreateApi.as_view(),
        name="span-create",
    ),
    path("projects/<slug:slug>/spans/<int:span_id>/update/", span_views.SpanUpdateApi.as_view(), name="span-update"),
    path("projects/<slug:slug>/spans/<int:span_id>/delete/", span_views.SpanDeleteApi.as_view(), name="span-delete"),
]

# Personal API tokens (create/revoke need a browser session; listing also works with a token).
urlpatterns += [
    path("tokens/", token_views.TokenListCreateApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>/", token_views.TokenRevokeApi.as_view(), name="token-revoke"),
]
