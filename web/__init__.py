"""The pages people use, served by the same FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

__all__ = ["mount_pages"]

_INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>养老金领取资格认证</title>
<style>body{font:24px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#111}
a{color:#0b57d0}</style></head>
<body><h1>养老金领取资格认证</h1>
<p>请使用短信或通知信中的链接开始认证。</p>
<p lang="en">Open the link from your SMS or letter to start. API: <a href="/docs">/docs</a></p>
</body></html>"""


def mount_pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return _INDEX
