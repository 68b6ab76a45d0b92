"""Over HTTP: the view gives who holds the trading state in parts, and each page carries the words for them in
its own language (the page writes them; ``test_dashboard_browser`` sees the result in a browser)."""

from __future__ import annotations

import json

import httpx

from tests.web.conftest import Served


def _labels(page: str) -> dict[str, str]:
    labels: dict[str, str] = json.loads(page.split("const T = ", 1)[1].split(";\n", 1)[0])
    return labels


def test_view_when_the_flag_file_halts_then_names_it_in_parts_and_each_page_has_its_words(
    served: Served,
) -> None:
    flag = served.config.execution.halt_file
    flag.touch()
    with httpx.Client(base_url=served.url) as client:
        assert client.post("/login", data={"token": served.token}).status_code == 303
        shown = client.get("/api/view").json()["status"]
        korean = _labels(client.get("/?lang=ko").text)
        english = _labels(client.get("/?lang=en").text)
    assert (shown["trading_state"], shown["trading_state_by"]) == ("halted", f"file {flag}")
    assert shown["state_source"] == {"kind": "file", "path": str(flag)}
    assert (korean["halted"], korean["by_file"]) == ("중단", "플래그 파일 {path}")
    assert (english["halted"], english["by_file"]) == ("halted", "file {path}")
    assert "file" not in korean["by_file"].lower()
