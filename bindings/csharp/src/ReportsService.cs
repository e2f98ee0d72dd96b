// Citizen reports: categories, create, read, list (one page, or every page lazily).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Hues.Sdk.Native;

namespace Hues.Sdk {

public sealed class ReportsService {
  readonly HuesClient client;

  internal ReportsService(HuesClient client) { this.client = client; }

  // The categories citizens can report, with their attributes, agency and SLA.
  public IReadOnlyList<Category> Categories(RequestOptions options = null,
                                            CancellationToken cancellationToken = default(CancellationToken)) {
    // The elements point into the native list and keep it alive; it must not be disposed here.
    return Invoke(options, cancellationToken, (r, o) => new List<Category>(r.Categories(o)));
  }

  // Creates a report. Safe to retry: each call carries an Idempotency-Key (the options' or a
  // generated one), so a retried create never makes a second report.
  public Report Create(NewReport report, RequestOptions options = null,
                       CancellationToken cancellationToken = default(CancellationToken)) {
    if (report == null) throw new ArgumentNullException(nameof(report));
    return Invoke(options, cancellationToken, (r, o) => r.Create(report, o));
  }

  public Report Get(string id, RequestOptions options = null,
                    CancellationToken cancellationToken = default(CancellationToken)) {
    if (id == null) throw new ArgumentNullException(nameof(id));
    return Invoke(options, cancellationToken, (r, o) => r.Get(id, o));
  }

  // One page of reports matching query; pass page.NextCursor as query.Cursor for the next.
  public ReportPage ListPage(ReportQuery query = null, RequestOptions options = null,
                             CancellationToken cancellationToken = default(CancellationToken)) {
    return Invoke(options, cancellationToken, (r, o) => r.ListPage(query ?? new ReportQuery(), o));
  }

  // Every report matching query, newest first, fetching pages as the enumeration needs them.
  public IEnumerable<Report> List(ReportQuery query = null, RequestOptions options = null,
                                  CancellationToken cancellationToken = default(CancellationToken)) {
    using (var call = new NativeCall(options, cancellationToken))
    using (var pager = client.Call(r => r.List(query ?? new ReportQuery(), call.Options))) {
      while (client.Call(r => pager.HasNext())) yield return pager.Next();
    }
  }

  // Async forms: the call runs on the thread pool; cancelling the token aborts its I/O and
  // ends the Task as cancelled. Errors are the same exceptions as the synchronous forms.
  public Task<IReadOnlyList<Category>> CategoriesAsync(RequestOptions options = null,
      CancellationToken cancellationToken = default(CancellationToken)) {
    return AsyncCall.Run(() => Categories(options, cancellationToken), cancellationToken);
  }

  public Task<Report> CreateAsync(NewReport report, RequestOptions options = null,
                                  CancellationToken cancellationToken = default(CancellationToken)) {
    if (report == null) throw new ArgumentNullException(nameof(report));
    return AsyncCall.Run(() => Create(report, options, cancellationToken), cancellationToken);
  }

  public Task<Report> GetAsync(string id, RequestOptions options = null,
                               CancellationToken cancellationToken = default(CancellationToken)) {
    if (id == null) throw new ArgumentNullException(nameof(id));
    return AsyncCall.Run(() => Get(id, options, cancellationToken), cancellationToken);
  }

  public Task<ReportPage> ListPageAsync(ReportQuery query = null, RequestOptions options = null,
                                        CancellationToken cancellationToken = default(CancellationToken)) {
    return AsyncCall.Run(() => ListPage(query, options, cancellationToken), cancellationToken);
  }

  T Invoke<T>(RequestOptions options, CancellationToken cancellationToken,
              Func<ReportsClient, CallOptions, T> call) {
    using (var native = new NativeCall(options, cancellationToken))
      return client.Call(r => call(r, native.Options));
  }
}

}
