"""Personal API tokens: list (session or token), create and revoke (browser session with CSRF only).

A token cannot mint or revoke tokens: a leaked key must not be able to entrench itself.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.models import ApiToken
from annotator.api.pagination import IdCursorPagination
from annotator.api.selectors import api_token_list
from annotator.api.services import api_token_create, api_token_revoke

SESSION_REQUIRED = (
    "Tokens are created and revoked from a logged-in browser session (the /account/tokens/ page), not with a token."
)


class SessionRequiredForWrites(BasePermission):
    """Reads with any authentication; writes only with a session (which also enforces CSRF)."""

    message = SESSION_REQUIRED

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or isinstance(request.successful_authenticator, SessionAuthentication)


class TokenOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = fields


class TokenCreatedSerializer(TokenOutputSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret: shown in this response only, never again.")

    class Meta(TokenOutputSerializer.Meta):
        fields = [*TokenOutputSerializer.Meta.fields, "key"]
        read_only_fields = fields


class TokenListCreateApi(APIView):
    permission_classes = [IsAuthenticated, SessionRequiredForWrites]
    pagination_class = IdCursorPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, help_text="What the token is for, e.g. 'laptop notebook'.")

    @extend_schema(operation_id="tokens_list", responses=TokenOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(api_token_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(TokenOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tokens_create",
        request=InputSerializer,
        responses={201: TokenCreatedSerializer, 400: OpenApiResponse(description="Invalid name or too many tokens.")},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw_key = api_token_create(user=request.user, name=serializer.validated_data["name"])
        token.key = raw_key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated, SessionRequiredForWrites]

    @extend_schema(
        operation_id="tokens_revoke",
        responses={204: None, 404: OpenApiResponse(description="Not one of your tokens.")},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
