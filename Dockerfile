# parktwin: collectors, twin and simulator in one image (`parktwin run`, `parktwin simulate`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Only what the package needs, so a local .venv or test data never enter the image.
COPY pyproject.toml README.md ./
COPY parktwin ./parktwin
COPY collectors ./collectors
COPY simulators ./simulators
COPY twin ./twin
COPY alerts ./alerts
COPY dashboards ./dashboards
COPY programs ./programs
RUN pip install . && useradd --system --home-dir /var/lib/parktwin parktwin \
    && mkdir -p /var/lib/parktwin && chown parktwin /var/lib/parktwin

USER parktwin
WORKDIR /var/lib/parktwin
ENV PARKTWIN_SPOOL__FOLDER=/var/lib/parktwin/spool \
    PARKTWIN_TWIN__CHECKPOINT_FOLDER=/var/lib/parktwin/twin
EXPOSE 8080
CMD ["parktwin", "run"]
