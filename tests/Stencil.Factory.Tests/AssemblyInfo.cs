// One QEMU at a time: the VM tests share one template and must not run side by side on 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
