# Huashu service image: CPU torch, the default model prepared at build time (starts offline),
# the index and data directories as volumes.
FROM python:3.11-slim AS build
WORKDIR /srv
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
# The CPU build of torch first, from the PyTorch CPU index inside the build environment.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements.lock .
RUN pip install -r requirements.lock
COPY app app
COPY corpus corpus
ENV HUASHU_MODEL_CACHE_DIR=/opt/models HF_HUB_OFFLINE=1
RUN python -m app model prepare

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 huashu
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
WORKDIR /srv
COPY --chown=huashu:huashu app app
COPY --chown=huashu:huashu corpus corpus
ENV PATH=/opt/venv/bin:$PATH HF_HUB_OFFLINE=1 HUASHU_MODEL_CACHE_DIR=/opt/models \
    HUASHU_INDEX_DIR=/data/index PYTHONUNBUFFERED=1
RUN mkdir -p /data/index && chown -R huashu:huashu /data
USER huashu
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["sh", "-c", "python -m app index build --if-missing --quiet && python -m app serve --host 0.0.0.0 --port 8000"]
