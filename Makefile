# Margin: common tasks. `make check` is what to run before pushing.
GO ?= go
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
GOSEC ?= $(shell $(GO) env GOPATH)/bin/gosec

.PHONY: run build test check fmt vet staticcheck gosec race tools

run:
	$(GO) run ./server

build:
	$(GO) build -o bin/margin ./server

test:
	$(GO) test ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tools:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	@test -x $(GOSEC) || $(GO) install github.com/securego/gosec/v2/cmd/gosec@latest

staticcheck: tools
	$(STATICCHECK) ./...

# gosec must be clean: a finding is fixed or justified in the code with a
# "#nosec Gxxx -- reason" comment.
gosec: tools
	$(GOSEC) -quiet ./...

race:
	$(GO) test -race -count=1 ./...

check: fmt vet staticcheck gosec race
