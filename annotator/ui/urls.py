from django.urls import path

from annotator.ui import tokens as token_pages
from annotator.ui import views

app_name = "ui"
urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<slug:slug>/", views.project_page, name="project"),
    path("projects/<slug:slug>/next/", views.project_next, name="project-next"),
    path("projects/<slug:slug>/articles/<int:article_id>/", views.annotate_page, name="annotate"),
    path("account/tokens/", token_pages.token_list_page, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", token_pages.token_revoke_page, name="token-revoke"),
]
