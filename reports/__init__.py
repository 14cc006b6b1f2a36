"""Monthly, quarterly and annual park reports (XLSX and PDF, English and Chinese) built from the
twin's own history: the period's stored readings replayed through the twin's code."""
