# photo-talk on one NVIDIA GPU. Models are cached in the /models volume, conversations in /data.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/models \
    DATABASE_URL=sqlite+aiosqlite:////data/photo_talk.sqlite3

# Python; a C compiler and its headers, which Triton needs to compile the fast decoding path
# (TORCH_COMPILE); and CJK fonts so Chinese lines render in the speech bubble.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
        fonts-noto-cjk fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && useradd --create-home --uid 1000 phototalk \
    && mkdir -p /data /models /app \
    && chown phototalk:phototalk /data /models

WORKDIR /app
# Dependencies first (a layer that survives code changes), then the code.
# The versions CI passed with (constraints.txt); torch==2.13.0 is its CUDA build here.
# en_core_web_sm: the tagger the Kokoro voice reads English with; spaCy publishes it on
# GitHub, not on PyPI, so it is installed from its release wheel (3.8.0 fits spaCy 3.8).
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir bot inference storage && touch bot/__init__.py inference/__init__.py storage/__init__.py \
    && pip install --no-cache-dir -c constraints.txt ".[gpu,postgres]" \
    && pip install --no-cache-dir -c constraints.txt \
        "en_core_web_sm @ https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.8.0/en_core_web_sm-3.8.0-py3-none-any.whl" \
    && pip uninstall -y photo-talk
COPY bot ./bot
COPY inference ./inference
COPY storage ./storage
RUN pip install --no-cache-dir --no-deps .

USER 1000:1000
VOLUME ["/data", "/models"]
# The webhook (TELEGRAM_WEBHOOK_LISTEN), or /healthz + /metrics (METRICS_LISTEN) when polling.
EXPOSE 8080
ENTRYPOINT ["photo-talk"]
CMD ["run"]
