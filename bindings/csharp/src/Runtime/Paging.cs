// Auto-paging for calls with x-hues-pagination: a lazy IEnumerable<T> (one page fetched at a
// time, as the loop reaches it) and AsyncPageable<T>, the async form mcs can express
// without C# 8: GetAsyncEnumerator(ct) + MoveNextAsync()/Current (the shape `await foreach`
// binds to by pattern on newer compilers), ForEachAsync and ToListAsync.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Hues.Sdk.Runtime {

static class Paging {
  internal static IEnumerable<TItem> Items<TPage, TItem>(string firstCursor, Func<string, TPage> fetch,
                                                          Func<TPage, IReadOnlyList<TItem>> items, Func<TPage, string> next) {
    var cursor = firstCursor;
    while (true) {
      var page = fetch(cursor);
      foreach (var x in items(page)) yield return x;
      cursor = next(page);
      if (string.IsNullOrEmpty(cursor)) yield break;
    }
  }

  internal static AsyncPageable<TItem> Async<TPage, TItem>(string firstCursor, Func<string, CancellationToken, Task<TPage>> fetch,
                                                           Func<TPage, IReadOnlyList<TItem>> items, Func<TPage, string> next,
                                                           CancellationToken ct) {
    return new AsyncPageable<TItem>(firstCursor, async (cursor, c) => {
      var page = await fetch(cursor, c).ConfigureAwait(false);
      return new KeyValuePair<IReadOnlyList<TItem>, string>(items(page), next(page));
    }, ct);
  }
}

}

namespace Hues.Sdk {

// Every item of a paged list, fetching pages as they are reached.
public sealed class AsyncPageable<T> {
  readonly string firstCursor;
  readonly Func<string, CancellationToken, Task<KeyValuePair<IReadOnlyList<T>, string>>> fetch;
  readonly CancellationToken token;

  internal AsyncPageable(string firstCursor, Func<string, CancellationToken, Task<KeyValuePair<IReadOnlyList<T>, string>>> fetch,
                         CancellationToken token) {
    this.firstCursor = firstCursor;
    this.fetch = fetch;
    this.token = token;
  }

  // A fresh pass from the first page. ct (or the token given to ListAsync) cancels page fetches.
  public AsyncPageEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default(CancellationToken)) {
    var ct = cancellationToken.CanBeCanceled ? cancellationToken : token;
    return new AsyncPageEnumerator<T>(firstCursor, fetch, ct);
  }

  public async Task ForEachAsync(Action<T> action, CancellationToken cancellationToken = default(CancellationToken)) {
    var e = GetAsyncEnumerator(cancellationToken);
    while (await e.MoveNextAsync().ConfigureAwait(false)) action(e.Current);
  }

  public async Task<List<T>> ToListAsync(CancellationToken cancellationToken = default(CancellationToken)) {
    var all = new List<T>();
    await ForEachAsync(all.Add, cancellationToken).ConfigureAwait(false);
    return all;
  }
}

public sealed class AsyncPageEnumerator<T> {
  readonly Func<string, CancellationToken, Task<KeyValuePair<IReadOnlyList<T>, string>>> fetch;
  readonly CancellationToken ct;
  IReadOnlyList<T> items;
  int index = -1;
  string cursor;
  bool last;

  internal AsyncPageEnumerator(string firstCursor, Func<string, CancellationToken, Task<KeyValuePair<IReadOnlyList<T>, string>>> fetch,
                               CancellationToken ct) {
    cursor = firstCursor;
    this.fetch = fetch;
    this.ct = ct;
  }

  public T Current {
    get {
      if (items == null || index < 0 || index >= items.Count) throw new InvalidOperationException("no current item");
      return items[index];
    }
  }

  // True with Current set, or false after the last item; a new page is fetched only when
  // the current one is used up.
  public Task<bool> MoveNextAsync() {
    if (items != null && index + 1 < items.Count) {
      index++;
      return True;
    }
    if (last) return False;
    return FetchAsync();
  }

  static readonly Task<bool> True = Task.FromResult(true);
  static readonly Task<bool> False = Task.FromResult(false);

  async Task<bool> FetchAsync() {
    while (true) {
      var page = await fetch(cursor, ct).ConfigureAwait(false);
      items = page.Key;
      index = 0;
      cursor = page.Value;
      last = string.IsNullOrEmpty(cursor);
      if (items.Count > 0) return true;
      if (last) return false;
    }
  }
}

}
