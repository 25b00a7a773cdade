// One browser, one server: the page tests share DashboardFixture and run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
