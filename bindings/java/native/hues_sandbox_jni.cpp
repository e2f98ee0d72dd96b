// JNI glue of vn.hues.sdk.testing.Sandbox over sandbox/include/hues/sandbox_c_api.h. Its own
// library (hues_sandbox_jni), so the SDK's library an app ships never contains the sandbox.
#include <jni.h>

#include "hues/sandbox_c_api.h"

extern "C" {

JNIEXPORT jlong JNICALL Java_vn_hues_sdk_testing_Sandbox_start0(JNIEnv* env, jclass, jbyteArray config,
                                                                 jobjectArray info) {
  jsize len = config == nullptr ? 0 : env->GetArrayLength(config);
  jbyte* data = config == nullptr ? nullptr : env->GetByteArrayElements(config, nullptr);
  uint64_t out = 0;
  hues_sandbox_bytes bytes{nullptr, 0};
  int rc = hues_sandbox_start(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len), &out, &bytes);
  if (data != nullptr) env->ReleaseByteArrayElements(config, data, JNI_ABORT);
  jbyteArray a = env->NewByteArray(static_cast<jsize>(bytes.len));
  if (a != nullptr && bytes.len > 0) {
    env->SetByteArrayRegion(a, 0, static_cast<jsize>(bytes.len), reinterpret_cast<const jbyte*>(bytes.data));
  }
  hues_sandbox_bytes_free(&bytes);
  if (a != nullptr) env->SetObjectArrayElement(info, 0, a);
  return rc == 0 ? static_cast<jlong>(out) : 0;
}

JNIEXPORT void JNICALL Java_vn_hues_sdk_testing_Sandbox_stop0(JNIEnv*, jclass, jlong sandbox) {
  hues_sandbox_stop(static_cast<uint64_t>(sandbox));
}

}  // extern "C"
