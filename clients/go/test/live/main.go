// Command live is the Go client's live test driver: it calls a running gateway through the
// generated client and prints what happened, one JSON line per case; tests/clients/ starts
// the gateway, writes the cases and checks the lines. Generic: any RPC of InvoiceService,
// unary or server-streaming, by name (the generated client's method of that name).
//
// Environment: FAPIAO_ADDRESS (host:port), FAPIAO_API_KEY, FAPIAO_LIVE_CASES (a JSON file:
// [{"name", "method", "request"}], requests in the proto3 JSON form).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"reflect"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	fapiaov1 "github.com/fapiao-gateway/fapiao-gateway/clients/go/fapiao/v1"
	"github.com/fapiao-gateway/fapiao-gateway/clients/go/gateway"
)

type liveCase struct {
	Name    string          `json:"name"`
	Method  string          `json:"method"`
	Request json.RawMessage `json:"request"`
}

type violation map[string]string

func errorJSON(e *gateway.RichError) map[string]interface{} {
	out := map[string]interface{}{
		"code":                   int(e.Code),
		"message":                e.Message,
		"reason":                 e.Reason(),
		"domain":                 e.Domain(),
		"metadata":               e.Metadata(),
		"fieldViolations":        []violation{},
		"preconditionViolations": []violation{},
		"quotaViolations":        []violation{},
		"resource":               nil,
		"retryDelayMs":           nil,
		"wechatErrcode":          nil,
	}
	for _, v := range e.FieldViolations {
		out["fieldViolations"] = append(out["fieldViolations"].([]violation),
			violation{"field": v.GetField(), "description": v.GetDescription()})
	}
	for _, v := range e.PreconditionViolations {
		out["preconditionViolations"] = append(out["preconditionViolations"].([]violation),
			violation{"type": v.GetType(), "subject": v.GetSubject(), "description": v.GetDescription()})
	}
	for _, v := range e.QuotaViolations {
		out["quotaViolations"] = append(out["quotaViolations"].([]violation),
			violation{"subject": v.GetSubject(), "description": v.GetDescription()})
	}
	if r := e.Resource; r != nil {
		out["resource"] = violation{"resourceType": r.GetResourceType(), "resourceName": r.GetResourceName(),
			"owner": r.GetOwner(), "description": r.GetDescription()}
	}
	if e.RetryDelay != nil {
		out["retryDelayMs"] = e.RetryDelay.Milliseconds()
	}
	if errcode, ok := e.WechatErrcode(); ok {
		out["wechatErrcode"] = errcode
	}
	return out
}

func asJSON(message proto.Message) json.RawMessage {
	encoded, err := protojson.Marshal(message)
	if err != nil {
		log.Fatalf("encoding %T: %v", message, err)
	}
	return encoded
}

// call invokes the generated client's method named like the RPC; a result or the error.
func call(client fapiaov1.InvoiceServiceClient, method protoreflect.MethodDescriptor, request proto.Message) (interface{}, error) {
	stub := reflect.ValueOf(client).MethodByName(string(method.Name()))
	if !stub.IsValid() {
		return nil, fmt.Errorf("the generated client has no %s: regenerate it (make generate)", method.Name())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	results := stub.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(request)})
	if err, _ := results[1].Interface().(error); err != nil {
		return nil, err
	}
	if !method.IsStreamingServer() {
		return asJSON(results[0].Interface().(proto.Message)), nil
	}
	recv := results[0].MethodByName("Recv")
	responses := []json.RawMessage{}
	for {
		received := recv.Call(nil)
		if err, _ := received[1].Interface().(error); err != nil {
			if errors.Is(err, io.EOF) {
				return responses, nil
			}
			return nil, err
		}
		responses = append(responses, asJSON(received[0].Interface().(proto.Message)))
	}
}

func main() {
	data, err := os.ReadFile(os.Getenv("FAPIAO_LIVE_CASES"))
	if err != nil {
		log.Fatal(err)
	}
	var cases []liveCase
	if err := json.Unmarshal(data, &cases); err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.Dial(os.Getenv("FAPIAO_ADDRESS"), grpc.WithInsecure(),
		grpc.WithPerRPCCredentials(gateway.APIKey{Key: os.Getenv("FAPIAO_API_KEY"), Insecure: true}))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := fapiaov1.NewInvoiceServiceClient(conn)
	service := fapiaov1.File_fapiao_v1_invoice_service_proto.Services().ByName("InvoiceService")
	for _, c := range cases {
		method := service.Methods().ByName(protoreflect.Name(c.Method))
		if method == nil {
			log.Fatalf("the generated client has no %s: regenerate it (make generate)", c.Method)
		}
		requestType, err := protoregistry.GlobalTypes.FindMessageByName(method.Input().FullName())
		if err != nil {
			log.Fatal(err)
		}
		request := requestType.New().Interface()
		if err := protojson.Unmarshal(c.Request, request); err != nil {
			log.Fatalf("%s: %v", c.Name, err)
		}
		line := map[string]interface{}{"name": c.Name}
		response, err := call(client, method, request)
		if err != nil {
			rich, ok := gateway.FromError(err)
			if !ok {
				log.Fatalf("%s: %v", c.Name, err)
			}
			line["error"] = errorJSON(rich)
		} else {
			line["response"] = response
		}
		encoded, err := json.Marshal(line)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(encoded))
	}
}
