package testreg

import (
	"reflect"
	"unsafe"

	"github.com/distribution/distribution/v3/registry/handlers"
)

// closeEventSink stops the notification broadcaster that handlers.NewApp
// starts and App.Shutdown never stops. Left running, every registry a test
// starts leaves a goroutine behind and goleak fails the test. The sink is an
// unexported field, reached by reflection; if a future distribution renames
// it, this does nothing rather than fail.
func closeEventSink(app *handlers.App) error {
	v := reflect.ValueOf(app).Elem().FieldByName("events")
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("sink")
	if !f.IsValid() || f.Kind() != reflect.Interface || !f.CanAddr() {
		return nil
	}
	sink := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	if c, ok := sink.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
