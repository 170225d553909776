# One image for the API and the workers:
#   docker run IMAGE                      -> certify serve (API + embedded defaults)
#   docker run IMAGE certify worker       -> one RQ worker
# dlib is never compiled: it comes from the prebuilt dlib-bin wheel.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/certify
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY certify/ certify/
COPY models/ models/
COPY api/ api/
COPY workers/ workers/
COPY web/ web/
COPY cli/ cli/
COPY service/ service/
RUN /opt/certify/bin/pip install --only-binary=dlib,dlib-bin -c requirements/constraints.txt . \
 && /opt/certify/bin/pip install --no-deps face_recognition==1.3.0 \
 && /opt/certify/bin/python -c "import face_recognition, dlib, cv2, av"

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 certify
COPY --from=build /opt/certify /opt/certify
ENV PATH=/opt/certify/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CERTIFY_VAR_DIR=/var/lib/certify
RUN mkdir -p /var/lib/certify && chown certify:certify /var/lib/certify
USER certify
WORKDIR /var/lib/certify
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["certify", "serve", "--host", "0.0.0.0", "--port", "8000"]
