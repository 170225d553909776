# One image for every role (certify serve | worker | maintain | db upgrade):
#   docker run IMAGE                                  -> certify serve: API + 1 worker, embedded Redis + SQLite
#   docker run IMAGE certify worker                   -> one RQ worker (one per core)
#   docker compose up --scale worker=4                -> see compose.yaml
# dlib is never compiled: it comes from the prebuilt dlib-bin wheel. The face models are
# the face_recognition_models wheel's files, so they are inside the image: nothing is
# downloaded at run time.
#
# PYTHON_IMAGE: any Debian bookworm image with Python 3.11 at the same path in both
# stages. Where Docker Hub cannot be reached, scripts/docker-base.sh builds one from
# Debian's packages (docker build --build-arg PYTHON_IMAGE=certify-base:bookworm ...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
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
# --only-binary: fail loudly instead of compiling dlib if anything asks for it
RUN /opt/certify/bin/pip install --only-binary=dlib,dlib-bin -c requirements/constraints.txt . \
 && /opt/certify/bin/pip install --no-deps face_recognition==1.3.0 \
 && /opt/certify/bin/python -c "import face_recognition, dlib, cv2, av, face_recognition_models as m, os; \
assert os.path.getsize(m.face_recognition_model_location()) > 1000000"

FROM ${PYTHON_IMAGE} AS runtime
# libgomp: OpenMP runtime for dlib and OpenCV (PyAV ships its own FFmpeg libraries)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1=12.2.0-14+deb12u1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 certify \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin certify \
 && mkdir -p /var/lib/certify \
 && chown 10001:10001 /var/lib/certify
COPY --from=build /opt/certify /opt/certify
ENV PATH=/opt/certify/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CERTIFY_VAR_DIR=/var/lib/certify \
    CERTIFY_LOG_FORMAT=json
# the models load at build time once more, as the user that runs them
USER 10001:10001
RUN python -c "import certify; certify.load_dlib_backend()"
WORKDIR /var/lib/certify
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["certify", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-demo"]
