"""The page's CSS: the advice pinned at the top, an emergency over the whole screen, and AA contrast for text."""

from __future__ import annotations

# - The advice stays in sight while the questions scroll under it: its wrapper is sticky in the main column.
# - An emergency covers the screen (fixed, above everything) until the person chooses to see the answers.
# - The header bar, which would cover the pinned advice, is hidden (the app has no menu for its users). Captions
#   meet 4.5:1 on white through the theme's text colour (.streamlit/config.toml), before this CSS arrives too.
PAGE = """<style>
header[data-testid="stHeader"] { display: none; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 1rem; }
div:has(> .st-key-advice) { position: sticky; top: 0; z-index: 990; background: #ffffff; padding-bottom: 0.25rem; }
.st-key-advice [data-testid="stAlertContainer"] { margin-bottom: 0; }
.st-key-care_emergency {
  position: fixed; inset: 0; z-index: 999990; overflow: auto; background: #8e1b14; padding: 1.5rem;
}
.st-key-care_emergency [data-testid="stAlertContainer"] { background: #8e1b14; border: 3px solid #ffffff; }
.st-key-care_emergency [data-testid="stAlertContainer"] * { color: #ffffff !important; }
.st-key-care_emergency h1, .st-key-care_emergency h2 { color: #ffffff !important; }
.st-key-care_emergency button { background: #ffffff; color: #8e1b14; border: 2px solid #ffffff; font-weight: 600; }
.st-key-care_emergency button * { color: #8e1b14 !important; }
.st-key-care_emergency [data-testid="stAlertContainer"] [data-testid="stMarkdownContainer"] { font-size: 1.15rem; }
.st-key-care_emergency_box [data-testid="stAlertContainer"] { background: #8e1b14; border: 3px solid #5c100b; }
.st-key-care_emergency_box [data-testid="stAlertContainer"] * { color: #ffffff !important; }
[data-testid="stWidgetLabel"] p { font-weight: 600; }
</style>"""
