// Package gateway holds what Go callers of the Fapiao gateway need beside the generated
// fapiao/v1 package: the decoder of its rich errors and the API-key credentials.
package gateway

import (
	"fmt"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is ErrorInfo.Domain of the errors the gateway itself raises.
const Domain = "fapiao-gateway"

// RichError is a failed call with what its google.rpc.Status details say. Every error the
// gateway raises carries exactly one ErrorInfo, plus the details that help the caller act.
type RichError struct {
	Code    codes.Code
	Message string
	// ErrorInfo is nil only for errors that did not come from the gateway itself.
	ErrorInfo *errdetails.ErrorInfo
	// RetryDelay is how long to wait before trying again (RetryInfo); nil: do not retry as is.
	RetryDelay             *time.Duration
	FieldViolations        []*errdetails.BadRequest_FieldViolation
	PreconditionViolations []*errdetails.PreconditionFailure_Violation
	QuotaViolations        []*errdetails.QuotaFailure_Violation
	// Resource is the resource the error is about (ResourceInfo), e.g. the invoice.
	Resource *errdetails.ResourceInfo
	// Undecoded lists the details of types this package does not know.
	Undecoded []error
}

// FromError decodes a gRPC error; ok is false when err is not a gRPC status error.
func FromError(err error) (rich *RichError, ok bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.OK {
		return nil, false
	}
	rich = &RichError{Code: st.Code(), Message: st.Message()}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			rich.ErrorInfo = d
		case *errdetails.RetryInfo:
			delay := d.GetRetryDelay().AsDuration()
			rich.RetryDelay = &delay
		case *errdetails.BadRequest:
			rich.FieldViolations = append(rich.FieldViolations, d.GetFieldViolations()...)
		case *errdetails.PreconditionFailure:
			rich.PreconditionViolations = append(rich.PreconditionViolations, d.GetViolations()...)
		case *errdetails.QuotaFailure:
			rich.QuotaViolations = append(rich.QuotaViolations, d.GetViolations()...)
		case *errdetails.ResourceInfo:
			rich.Resource = d
		case error:
			rich.Undecoded = append(rich.Undecoded, d)
		}
	}
	return rich, true
}

func (e *RichError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Code, e.Reason(), e.Message)
}

// Reason is ErrorInfo.Reason, e.g. INVALID_REQUEST_FIELDS; "" without an ErrorInfo.
func (e *RichError) Reason() string { return e.ErrorInfo.GetReason() }

// Domain is ErrorInfo.Domain: "fapiao-gateway" for the gateway's own errors.
func (e *RichError) Domain() string { return e.ErrorInfo.GetDomain() }

// Metadata is ErrorInfo.Metadata: account, card_id, wechat_errcode, correlation_id, ... as known.
func (e *RichError) Metadata() map[string]string { return e.ErrorInfo.GetMetadata() }

// WechatErrcode is the WeChat errcode behind the error; ok is false when there was none.
func (e *RichError) WechatErrcode() (errcode int, ok bool) {
	value, found := e.Metadata()["wechat_errcode"]
	if !found {
		return 0, false
	}
	errcode, err := strconv.Atoi(value)
	return errcode, err == nil
}

// Holder is who holds the resource, when known: e.g. "bizCode:EXP-1001" (ResourceInfo.Owner).
func (e *RichError) Holder() string { return e.Resource.GetOwner() }
