# afisync container image: a static binary on distroless, run as non-root.
#
#   docker build -t afisync --build-arg VERSION=$(git describe --tags --always --dirty) .
#   docker run --rm -v "$PWD/plans:/plans:ro" -e AWS_REGION -e AWS_ACCESS_KEY_ID \
#     -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN afisync sync --plan /plans/fleet.yaml
#
# GO_VERSION follows go.mod's go line, and the build line below is the one
# cmd/afisync/release_test.go runs to check that it gives a static binary:
# keep them in step.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The version afisync reports (afisync --version); .git is not copied in,
# so without it the binary says (devel).
ARG VERSION=""
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" -o /out/afisync ./cmd/afisync

# CA certificates, time zones, /etc/passwd with nonroot (uid 65532); no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/afisync /usr/local/bin/afisync
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/afisync"]
CMD ["--help"]
