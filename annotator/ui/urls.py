from django.urls import path

from annotator.ui import codebook as codebook_pages
from annotator.ui import curation as curation_pages
from annotator.ui import exchange as exchange_pages
from annotator.ui import project_settings as settings_pages
from annotator.ui import rigour as rigour_pages
from annotator.ui import scoring as scoring_pages
from annotator.ui import tokens as token_pages
from annotator.ui import training as training_pages
from annotator.ui import views
from annotator.ui.project_new import project_new_page

app_name = "ui"
urlpatterns = [
    path("", views.home, name="home"),
    path("projects/new/", project_new_page, name="project-new"),
    path("projects/<slug:slug>/", views.project_page, name="project"),
    path("projects/<slug:slug>/next/", views.project_next, name="project-next"),
    path("projects/<slug:slug>/settings/", settings_pages.project_settings_page, name="project-settings"),
    path("projects/<slug:slug>/codebook/", codebook_pages.codebook_page, name="codebook"),
    path("projects/<slug:slug>/articles/<int:article_id>/", views.annotate_page, name="annotate"),
    path("projects/<slug:slug>/curate/", curation_pages.curate_list_page, name="curate-list"),
    path("projects/<slug:slug>/curate/<int:article_id>/", curation_pages.curate_page, name="curate"),
    path("projects/<slug:slug>/curate/<int:article_id>/action/", curation_pages.curate_action, name="curate-action"),
    path("projects/<slug:slug>/agreement/", curation_pages.agreement_page, name="agreement"),
    path("projects/<slug:slug>/assignments/", curation_pages.assignments_page, name="assignments"),
    path("projects/<slug:slug>/models/", training_pages.models_page, name="models"),
    path("projects/<slug:slug>/models/<int:number>/", training_pages.model_detail_page, name="model-detail"),
    path("projects/<slug:slug>/models/<int:number>/lexicon/", training_pages.lexicon_page, name="lexicon-version"),
    path("projects/<slug:slug>/lexicon/", training_pages.lexicon_page, name="lexicon"),
    path("projects/<slug:slug>/scores/", scoring_pages.dashboard_page, name="scores"),
    path("projects/<slug:slug>/exchange/", exchange_pages.exchange_page, name="exchange"),
    path("projects/<slug:slug>/snapshots/", rigour_pages.snapshots_page, name="snapshots"),
    path("projects/<slug:slug>/term-suggestions/", rigour_pages.term_suggestions_page, name="term-suggestions"),
    path("account/tokens/", token_pages.token_list_page, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", token_pages.token_revoke_page, name="token-revoke"),
]
