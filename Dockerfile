# tandem: one static binary that runs every role (serve, learn, work, bus).
# A multi-stage build: the Go toolchain compiles a static binary
# (CGO_ENABLED=0: the SQLite driver is pure Go), and the final image is
# that binary alone, run as an unprivileged user. docs/deploy.md.
#
# With network access:   docker compose build   (or docker build -t tandem .)
# Offline:               deploy/compose-smoke.sh builds with a toolchain
#                        image made from the host's Go (GO_IMAGE) and the
#                        modules vendored into the build context; go build
#                        uses vendor/ by itself when it is there.
#
# Only exec-form RUN is used, so a toolchain image without a shell works.

ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
# TAGS are extra Go build tags (none by default; the image is built without
# cgo, so the openblas tag does not apply here).
ARG TAGS=""
ENV CGO_ENABLED=0 GOFLAGS="-trimpath -tags=${TAGS}" GOCACHE=/tmp/go-build
WORKDIR /src
COPY . .
RUN ["go", "build", "-ldflags=-s -w", "-o", "/out/tandem", "./cmd/tandem"]
# Empty directories for the final image (WORKDIR makes them without a shell).
WORKDIR /out/data
WORKDIR /out/tmp

FROM scratch
COPY --from=build /out/tandem /tandem
# The data directory, owned by the user the roles run as: a named volume
# mounted on it starts with this ownership.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/tmp /tmp
ENV TMPDIR=/tmp
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["/tandem"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/data"]
