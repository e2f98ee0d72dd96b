package vn.hues.sdk;

import java.util.StringJoiner;

/**
 * Base of every error the Hue-S SDK throws. Carries the HTTP status (0 when no response
 * arrived), the machine-readable code, the request id to quote to support, the offending
 * field of a validation error, and whether retrying may help.
 */
public class HuesException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int httpStatus;
  private final String code;
  private final String requestId;
  private final String field;
  private final boolean retryable;

  public HuesException(String message, int httpStatus, String code, String requestId,
      String field, boolean retryable) {
    super(describe(message, httpStatus, code, requestId, field));
    this.httpStatus = httpStatus;
    this.code = code == null ? "" : code;
    this.requestId = requestId == null ? "" : requestId;
    this.field = field == null ? "" : field;
    this.retryable = retryable;
  }

  /** HTTP status of the response, 0 when none was received. */
  public int getHttpStatus() { return httpStatus; }
  /** Machine-readable code, e.g. {@code invalid_api_key} or {@code timeout}. */
  public String getCode() { return code; }
  /** The X-Request-Id of the failed call ("" when unknown). */
  public String getRequestId() { return requestId; }
  /** The request field a validation error is about, e.g. {@code location.lat}; else "". */
  public String getField() { return field; }
  /** True when the same call may succeed if retried later. */
  public boolean isRetryable() { return retryable; }

  private static String describe(String message, int status, String code, String requestId,
      String field) {
    StringJoiner details = new StringJoiner(", ", " (", ")").setEmptyValue("");
    if (status != 0) details.add("status " + status);
    if (code != null && !code.isEmpty()) details.add("code " + code);
    if (field != null && !field.isEmpty()) details.add("field " + field);
    if (requestId != null && !requestId.isEmpty()) details.add("request id " + requestId);
    return (message == null ? "" : message) + details;
  }
}
