from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.centre, name="centre"),
    path("alerts/<int:pk>/act/", views.act, name="act"),
    path("alerts/rules/", views.rules, name="rules"),
    path("alerts/rules/<int:pk>/", views.rules, name="rule"),
    path("api/v1/alerts/", views.alert_list_api, name="api-list"),
    path("api/v1/alerts/<int:pk>/", views.alert_detail_api, name="api-detail"),
]
