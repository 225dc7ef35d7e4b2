"""/api/v1/ routes. Each app's API views are registered here."""

from django.urls import path

from annotator.api.views import agreement as agreement_views
from annotator.api.views import annotations as annotation_list_views
from annotator.api.views import answers as answer_views
from annotator.api.views import code_scores as code_score_views
from annotator.api.views import codebook as codebook_views
from annotator.api.views import corpus as corpus_views
from annotator.api.views import curation as curation_views
from annotator.api.views import exchange as exchange_views
from annotator.api.views import projects as project_views
from annotator.api.views import questions as question_views
from annotator.api.views import rigour as rigour_views
from annotator.api.views import scoring as scoring_views
from annotator.api.views import spans as span_views
from annotator.api.views import tokens as token_views
from annotator.api.views import training as training_views

app_name = "api"
urlpatterns: list = []

# Projects, queues and spans (annotation).
urlpatterns += [
    path("projects/", project_views.ProjectListApi.as_view(), name="project-list"),
    path("projects/<slug:slug>/", project_views.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<slug:slug>/labels/", project_views.LabelListApi.as_view(), name="label-list"),
    path("projects/<slug:slug>/labels/<int:label_id>/", project_views.LabelDetailApi.as_view(), name="label-detail"),
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
    path(
        "projects/<slug:slug>/articles/<int:article_id>/suggestions/",
        span_views.SuggestionListApi.as_view(),
        name="suggestion-list",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/others/",
        span_views.OtherSpanListApi.as_view(),
        name="other-span-list",
    ),
    path("projects/<slug:slug>/spans/<int:span_id>/", span_views.SpanStateApi.as_view(), name="span-state"),
    path("projects/<slug:slug>/spans/<int:span_id>/update/", span_views.SpanUpdateApi.as_view(), name="span-update"),
    path("projects/<slug:slug>/spans/<int:span_id>/delete/", span_views.SpanDeleteApi.as_view(), name="span-delete"),
]

# Codebook questions and span attributes; answers on the annotator page (views/questions.py, views/answers.py).
urlpatterns += [
    path("projects/<slug:slug>/questions/", question_views.QuestionListApi.as_view(), name="question-list"),
    path(
        "projects/<slug:slug>/questions/reorder/",
        question_views.QuestionReorderApi.as_view(),
        name="question-reorder",
    ),
    path(
        "projects/<slug:slug>/questions/<int:question_id>/",
        question_views.QuestionDetailApi.as_view(),
        name="question-detail",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/answers/",
        answer_views.AnswerListApi.as_view(),
        name="answer-list",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/answers/set/",
        answer_views.AnswerSetApi.as_view(),
        name="answer-set",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/answers/predicted/",
        answer_views.PredictedAnswerListApi.as_view(),
        name="answer-predicted",
    ),
    path(
        "projects/<slug:slug>/articles/<int:article_id>/sentences/",
        answer_views.SentenceListApi.as_view(),
        name="sentence-list",
    ),
]

# Training: model versions, lexicon terms, pin/ban rules.
_P = "projects/<slug:slug>/"
urlpatterns += [
    path(_P + "models/", training_views.ModelVersionListApi.as_view(), name="model-version-list"),
    path(_P + "models/train/", training_views.ModelVersionTrainApi.as_view(), name="model-version-train"),
    path(_P + "models/<int:number>/", training_views.ModelVersionDetailApi.as_view(), name="model-version-detail"),
    path(
        _P + "models/<int:number>/activate/",
        training_views.ModelVersionActivateApi.as_view(),
        name="model-version-activate",
    ),
    path(_P + "models/<int:number>/terms/", training_views.LexiconTermListApi.as_view(), name="lexicon-term-list"),
    path(_P + "term-rules/", training_views.TermRuleListApi.as_view(), name="term-rule-list"),
    path(_P + "term-rules/create/", training_views.TermRuleCreateApi.as_view(), name="term-rule-create"),
    path(_P + "term-rules/<int:rule_id>/delete/", training_views.TermRuleDeleteApi.as_view(), name="term-rule-delete"),
]

# Scoring: runs, jobs, framing scores, comparisons, term choice, distinctive terms, concepts, examples.
urlpatterns += [
    path(_P + "score/", scoring_views.ScoringRunStartApi.as_view(), name="scoring-run-start"),
    path(_P + "jobs/<int:job_id>/", scoring_views.JobDetailApi.as_view(), name="job-detail"),
    path(_P + "framing-scores/", scoring_views.FramingScoreListApi.as_view(), name="framing-score-list"),
    path(_P + "framing-scores/compare/", scoring_views.FramingScoreCompareApi.as_view(), name="framing-score-compare"),
    path(_P + "code-scores/", code_score_views.CodeScoreListApi.as_view(), name="code-score-list"),
    path(_P + "code-scores/compare/", code_score_views.CodeScoreCompareApi.as_view(), name="code-score-compare"),
    path(_P + "attribute-rates/", code_score_views.AttributeRateListApi.as_view(), name="attribute-rate-list"),
    path(_P + "term-choice/", scoring_views.TermChoiceApi.as_view(), name="term-choice"),
    path(_P + "distinctive-terms/", scoring_views.DistinctiveTermsApi.as_view(), name="distinctive-terms"),
    path(_P + "examples/", scoring_views.KwicApi.as_view(), name="kwic"),
    path(_P + "concepts/", scoring_views.ConceptListApi.as_view(), name="concept-list"),
    path(_P + "concepts/create/", scoring_views.ConceptCreateApi.as_view(), name="concept-create"),
]

# Assignment, curation and agreement (annotator/api/views/curation.py, agreement.py).
urlpatterns += [
    path(_P + "assignments/", curation_views.AssignmentProgressApi.as_view(), name="assignment-progress"),
    path(_P + "assignments/preview/", curation_views.AssignmentPreviewApi.as_view(), name="assignment-preview"),
    path(_P + "assignments/generate/", curation_views.AssignmentGenerateApi.as_view(), name="assignment-generate"),
    path(_P + "curate/articles/", curation_views.CurationArticleListApi.as_view(), name="curation-article-list"),
    path(
        _P + "curate/articles/<int:article_id>/", curation_views.CurationArticleApi.as_view(), name="curation-article"
    ),
    path(_P + "curate/articles/<int:article_id>/gold/", curation_views.GoldSpanCreateApi.as_view(), name="gold-create"),
    path(
        _P + "curate/articles/<int:article_id>/adjudication/",
        curation_views.AdjudicationSetApi.as_view(),
        name="adjudication-set",
    ),
    path(_P + "curate/spans/<int:span_id>/accept/", curation_views.SpanAcceptApi.as_view(), name="span-accept"),
    path(_P + "curate/spans/<int:span_id>/reject/", curation_views.SpanRejectApi.as_view(), name="span-reject"),
    path(_P + "curate/gold/<int:span_id>/", curation_views.GoldSpanUpdateApi.as_view(), name="gold-update"),
    path(_P + "curate/bulk-accept/", curation_views.GoldBulkAcceptApi.as_view(), name="gold-bulk-accept"),
    path(
        _P + "curate/articles/<int:article_id>/answers/",
        curation_views.CurationAnswersApi.as_view(),
        name="curation-answers",
    ),
    path(
        _P + "curate/articles/<int:article_id>/answers/gold/",
        curation_views.GoldAnswerSetApi.as_view(),
        name="gold-answer-set",
    ),
    path(
        _P + "curate/answers/bulk-accept/",
        curation_views.GoldAnswerBulkAcceptApi.as_view(),
        name="gold-answer-bulk-accept",
    ),
    path(_P + "agreement/", agreement_views.AgreementApi.as_view(), name="agreement"),
    path(_P + "agreement/table/", agreement_views.AgreementTableApi.as_view(), name="agreement-table"),
    path(
        _P + "agreement/disagreements/",
        agreement_views.AgreementDisagreementsApi.as_view(),
        name="agreement-disagreements",
    ),
]

# Personal API tokens (create/revoke need a browser session; listing also works with a token).
urlpatterns += [
    path("tokens/", token_views.TokenListCreateApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>/", token_views.TokenRevokeApi.as_view(), name="token-revoke"),
]

# Annotation exchange: streamed export in native/doccano/labelstudio/conll/csv.
urlpatterns += [
    path(
        "projects/<slug:slug>/annotations/export/",
        exchange_views.AnnotationExportApi.as_view(),
        name="annotation-export",
    ),
]

# Corpus: outlets, articles (filters, search, sparse fields), import batches and uploads (views/corpus.py);
# a project's spans by layer and its codebook history (views/annotations.py, views/codebook.py).
urlpatterns += [
    path("outlets/", corpus_views.OutletListApi.as_view(), name="outlet-list"),
    path("outlets/<slug:slug>/", corpus_views.OutletDetailApi.as_view(), name="outlet-detail"),
    path("articles/", corpus_views.ArticleListApi.as_view(), name="article-list"),
    path("articles/<int:article_id>/", corpus_views.ArticleDetailApi.as_view(), name="article-detail"),
    path("import-batches/", corpus_views.ImportBatchListApi.as_view(), name="import-batch-list"),
    path("import-batches/create/", corpus_views.ImportBatchCreateApi.as_view(), name="import-batch-create"),
    path("import-batches/preview/", corpus_views.ImportPreviewApi.as_view(), name="import-batch-preview"),
    path("import-batches/<int:batch_id>/", corpus_views.ImportBatchDetailApi.as_view(), name="import-batch-detail"),
    path(
        "import-batches/<int:batch_id>/errors/",
        corpus_views.ImportBatchErrorListApi.as_view(),
        name="import-batch-errors",
    ),
    path(_P + "annotations/", annotation_list_views.AnnotationListApi.as_view(), name="annotation-list"),
    path(_P + "codebook/", project_views.CodebookExportApi.as_view(), name="codebook-export"),
    path(_P + "codebook/versions/", codebook_views.CodebookVersionListApi.as_view(), name="codebook-version-list"),
    path(
        _P + "codebook/versions/<int:number>/",
        codebook_views.CodebookVersionDetailApi.as_view(),
        name="codebook-version-detail",
    ),
]

# Research rigour: frozen study snapshots and term suggestions (views/rigour.py).
urlpatterns += [
    path(_P + "snapshots/", rigour_views.SnapshotListApi.as_view(), name="snapshot-list"),
    path(_P + "snapshots/create/", rigour_views.SnapshotCreateApi.as_view(), name="snapshot-create"),
    path(
        _P + "snapshots/<int:snapshot_id>/download/",
        rigour_views.SnapshotDownloadApi.as_view(),
        name="snapshot-download",
    ),
    path(_P + "term-suggestions/", rigour_views.TermSuggestionListApi.as_view(), name="term-suggestion-list"),
    path(
        _P + "term-suggestions/verify/",
        rigour_views.TermVerificationSendApi.as_view(),
        name="term-verification-send",
    ),
]
