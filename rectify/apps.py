from django.apps import AppConfig


class RectifyConfig(AppConfig):
    name = "rectify"
    verbose_name = "用户与角色"
