"""/api/v1/ routes. Each app's API views are registered here."""

app_name = "api"
urlpatterns: list = []
