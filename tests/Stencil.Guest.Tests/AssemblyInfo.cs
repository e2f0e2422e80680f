// One QEMU at a time: the machine's two cores are shared, and parallel boots under TCG would
// only make each one slower and the measured times meaningless.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
