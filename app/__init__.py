"""The Streamlit app's parts: the answers and their widgets, the advice, the causes in words, the clinicians' view,
the file tab and the page's style. `app.py` at the project root runs them; nothing here runs on import."""
