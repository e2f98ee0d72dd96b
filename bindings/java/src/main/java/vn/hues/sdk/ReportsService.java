package vn.hues.sdk;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import vn.hues.sdk.internal.CallOptions;
import vn.hues.sdk.internal.Category;
import vn.hues.sdk.internal.NewReport;
import vn.hues.sdk.internal.Report;
import vn.hues.sdk.internal.ReportPage;
import vn.hues.sdk.internal.ReportQuery;
import vn.hues.sdk.internal.ReportsClient;

/**
 * Citizen reports (phản ánh hiện trường). Every method takes optional {@link CallOptions}
 * (deadline, attempts, idempotency key, cancellation); failures throw {@link HuesException}
 * subclasses, and async forms complete exceptionally with them.
 */
public final class ReportsService {
  private static final CallOptions DEFAULTS = new CallOptions();
  private final HuesClient owner;
  private final ReportsClient reports;

  ReportsService(HuesClient owner, ReportsClient reports) {
    this.owner = owner;
    this.reports = reports;
  }

  /** The categories citizens can report, with their attributes, agency and SLA. */
  public List<Category> categories() { return categories(null); }

  public List<Category> categories(CallOptions options) {
    return owner.call(() -> reports.categories(orDefaults(options)));
  }

  /**
   * Creates a report. Safe to retry: the call carries an Idempotency-Key (the options' or a
   * generated one), so a retried create never makes a second report.
   */
  public Report create(NewReport report) { return create(report, null); }

  public Report create(NewReport report, CallOptions options) {
    return owner.call(() -> reports.create(report, orDefaults(options)));
  }

  /** Throws {@link NotFoundException} for an unknown id. */
  public Report get(String id) { return get(id, null); }

  public Report get(String id, CallOptions options) {
    return owner.call(() -> reports.get(id, orDefaults(options)));
  }

  /** One page; pass the page's nextCursor as query.cursor for the next one. */
  public ReportPage listPage(ReportQuery query) { return listPage(query, null); }

  public ReportPage listPage(ReportQuery query, CallOptions options) {
    return owner.call(() -> reports.listPage(query, orDefaults(options)));
  }

  /** Every report, newest first, fetched page by page as iteration goes. */
  public PagedIterable<Report> list() { return list(new ReportQuery(), null); }

  public PagedIterable<Report> list(ReportQuery query) { return list(query, null); }

  public PagedIterable<Report> list(ReportQuery query, CallOptions options) {
    ReportQuery q = new ReportQuery(query);  // later changes to the caller's query don't leak in
    CallOptions o = new CallOptions(orDefaults(options));
    return new PagedIterable<>(() -> owner.call(() -> reports.list(q, o)));
  }

  public CompletableFuture<List<Category>> categoriesAsync() { return categoriesAsync(null); }

  public CompletableFuture<List<Category>> categoriesAsync(CallOptions options) {
    return owner.async(options, o -> categories(o));
  }

  /** {@link #create} on the client's executor; cancelling the future cancels the call. */
  public CompletableFuture<Report> createAsync(NewReport report) { return createAsync(report, null); }

  public CompletableFuture<Report> createAsync(NewReport report, CallOptions options) {
    NewReport copy = new NewReport(report);
    return owner.async(options, o -> create(copy, o));
  }

  public CompletableFuture<Report> getAsync(String id) { return getAsync(id, null); }

  public CompletableFuture<Report> getAsync(String id, CallOptions options) {
    return owner.async(options, o -> get(id, o));
  }

  public CompletableFuture<ReportPage> listPageAsync(ReportQuery query) {
    return listPageAsync(query, null);
  }

  public CompletableFuture<ReportPage> listPageAsync(ReportQuery query, CallOptions options) {
    ReportQuery copy = new ReportQuery(query);
    return owner.async(options, o -> listPage(copy, o));
  }

  /** Called by HuesClient.close() under its write lock. */
  void release() {
    reports.delete();
  }

  private static CallOptions orDefaults(CallOptions options) {
    return options == null ? DEFAULTS : options;
  }
}
